"""Aggregate a sweep: every metrics.json below `dir` into one table, next to the paper's figures.

`python report.py dir=outputs/evaluate-multirun/<date>`; see docs/experiments.md.
"""

import hydra
from omegaconf import DictConfig

from winclip_lit.run.cli import run_entry_point, run_task


@hydra.main(config_path="conf", config_name="report", version_base="1.3")
def main(cfg: DictConfig) -> None:
    """Hydra entry point."""
    from winclip_lit.run.report import report

    run_task(lambda cfg, _run: report(cfg.dir, cfg.output_dir), cfg)


if __name__ == "__main__":
    run_entry_point(main)
