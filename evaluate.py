"""Evaluate WinCLIP / WinCLIP+ on a dataset and write metrics.json plus result tables.

`python evaluate.py` runs the paper's zero-shot setting on MVTec-AD; see docs/experiments.md."""

import hydra
from omegaconf import DictConfig

from winclip_lit.run.cli import run_entry_point, run_task


@hydra.main(config_path="conf", config_name="config", version_base="1.3")
def main(cfg: DictConfig) -> None:
    """Hydra entry point."""
    from winclip_lit.run.evaluate import evaluate

    run_task(evaluate, cfg)


if __name__ == "__main__":
    run_entry_point(main)
