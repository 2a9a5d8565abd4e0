"""Score a folder of unlabeled images: per-image scores (CSV) and anomaly-map overlays (PNG).

`python predict.py predict.input_dir=/path/to/images [ckpt_path=...]`; see docs/experiments.md."""

import hydra
from omegaconf import DictConfig

from winclip_lit.run.cli import run_entry_point, run_task


@hydra.main(config_path="conf", config_name="config", version_base="1.3")
def main(cfg: DictConfig) -> None:
    """Hydra entry point."""
    from winclip_lit.run.predict import predict

    run_task(predict, cfg)


if __name__ == "__main__":
    run_entry_point(main)
