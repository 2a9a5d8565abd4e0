"""Build per-category text embeddings and few-shot reference memory and save them as a checkpoint.

`python train.py shot=4` then `python evaluate.py ckpt_path=<run dir>/checkpoint.pt`; see docs/experiments.md."""

import hydra
from omegaconf import DictConfig

from winclip_lit.run.cli import run_entry_point, run_task


@hydra.main(config_path="conf", config_name="config", version_base="1.3")
def main(cfg: DictConfig) -> None:
    """Hydra entry point."""
    from winclip_lit.run.fit import fit

    run_task(fit, cfg)


if __name__ == "__main__":
    run_entry_point(main)
