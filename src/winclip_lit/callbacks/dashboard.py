"""The run's dashboard: the panels of ``dashboard.panels`` (Lightning callbacks, instantiated by Hydra and
passed to the Trainer) and the views that show them (each logger, and ``<run dir>/figures/`` when
``dashboard.figures``).

Examples:
    A run's figures after ``winclip-lit evaluate logger=none``::

        figures/metrics.png                 per-category metrics (bars)
        figures/<category>/curves.png       image/pixel ROC and PR, PRO up to metrics.fpr_limit
        figures/<category>/samples/*.png    overlays of normal images and every defect type
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from omegaconf import DictConfig, OmegaConf

from winclip_lit.callbacks.panels import Panel, RunSummary
from winclip_lit.config.errors import ConfigError
from winclip_lit.engine.context import RunContext, process_rank
from winclip_lit.loggers.views import views_of


class Dashboard:
    """The panels of a run and where they show.

    Args:
        callbacks: The configured callbacks (panels, or any Lightning callback) for the Trainer.
        views: Where panels show (empty on ranks other than 0).
    """

    def __init__(self, callbacks: Sequence[Any], views: Sequence[Any]) -> None:
        self.callbacks = list(callbacks)
        self.views = list(views)
        for panel in self.panels:
            panel.views = self.views

    @property
    def panels(self) -> list[Panel]:
        """The callbacks that are panels."""
        return [c for c in self.callbacks if isinstance(c, Panel)]

    def finish(self, run: RunSummary) -> None:
        """Show the run-wide panels (results, bars, config, HParams) of a finished run."""
        if self.views:
            for panel in self.panels:
                panel.show_run(run)


def build_panels(node: DictConfig) -> list[Any]:
    """Instantiate ``dashboard.panels`` (name -> ``_target_`` config; a null entry is switched off)."""
    from hydra.utils import instantiate
    from lightning.pytorch.callbacks import Callback

    panels = []
    for name, spec in (node.get("panels") or {}).items():
        if spec is None:
            continue
        if not OmegaConf.is_dict(spec) or "_target_" not in spec:
            raise ConfigError(
                f"dashboard.panels.{name} has no _target_; a panel names a Lightning Callback class "
                "(see winclip_lit/callbacks/panels.py)"
            )
        try:
            panel = instantiate(spec, _convert_="all")
        except Exception as error:
            raise ConfigError(
                f"dashboard.panels.{name} ({spec._target_}) cannot be built: {' '.join(str(error).split())[:200]}"
            ) from None
        if not isinstance(panel, Callback):
            raise ConfigError(
                f"dashboard.panels.{name}._target_={spec._target_} is not a Lightning Callback; "
                "subclass winclip_lit.callbacks.panels.Panel"
            )
        panels.append(panel)
    return panels


def build_dashboard(node: DictConfig, run: RunContext, loggers: Sequence[Any]) -> Dashboard:
    """The dashboard of the ``dashboard`` node showing in ``loggers`` (and ``figures/`` when enabled)."""
    views = views_of(loggers, run.output_dir if node.figures else None) if process_rank() == 0 else []
    return Dashboard(build_panels(node), views)
