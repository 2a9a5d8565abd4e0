"""The views of a run's dashboard: one per logger that can show panels, and the figures on disk."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from winclip_lit.loggers.view import View


def _is(logger: Any, class_name: str) -> bool:
    """Whether ``logger`` is (a subclass of) the Lightning logger class ``class_name``."""
    return any(kind.__name__ == class_name for kind in type(logger).__mro__)


def views_of(loggers: Sequence[Any], run_dir: str | Path | None = None) -> list[View]:
    """A view per logger that shows panels (W&B, TensorBoard, MLflow, CSV; others are left out) and,
    with ``run_dir``, the PNG figures below ``<run_dir>/figures/``."""
    views: list[View] = []
    if run_dir is not None:
        from winclip_lit.loggers.disk_view import FiguresView

        views.append(FiguresView(run_dir))
    for logger in loggers:
        if _is(logger, "WandbLogger"):
            from winclip_lit.loggers.wandb_view import WandbView

            views.append(WandbView(logger))
        elif _is(logger, "TensorBoardLogger"):
            from winclip_lit.loggers.tensorboard import TensorBoardView

            views.append(TensorBoardView(logger))
        elif _is(logger, "MLFlowLogger"):
            from winclip_lit.loggers.mlflow import MlflowView

            views.append(MlflowView(logger))
        elif _is(logger, "CSVLogger"):
            from winclip_lit.loggers.csv_view import CsvView

            views.append(CsvView(logger))
    return views
