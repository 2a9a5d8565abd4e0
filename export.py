"""Export one deployable graph per category (ONNX or OpenVINO IR) with its JSON sidecar.

`python export.py ckpt_path=<train run>/checkpoint.pt export.format=onnx|openvino`; see docs/deploy.md."""

import hydra
from omegaconf import DictConfig

from winclip_lit.run.cli import run_entry_point, run_task


@hydra.main(config_path="conf", config_name="config", version_base="1.3")
def main(cfg: DictConfig) -> None:
    """Hydra entry point."""
    from winclip_lit.run.export import export

    run_task(export, cfg)


if __name__ == "__main__":
    run_entry_point(main)
