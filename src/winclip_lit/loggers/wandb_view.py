"""The dashboard in W&B: line charts of the curves, interactive overlays with toggleable masks,
``wandb.Table`` tables, bar charts per metric and the results artifact (the payloads of ``wandb_media``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from winclip_lit.loggers.view import SampleTriple, View
from winclip_lit.metrics.curves import Curve


class WandbView(View):
    """Shows the panels in the W&B run of a Lightning ``WandbLogger``."""

    def __init__(self, logger: Any) -> None:
        self.logger = logger
        self.run = logger.experiment

    def curves(self, category: str, curves: Mapping[str, Curve]) -> None:
        """``<category>/roc``, ``/pr``, ``/pro`` line charts."""
        from winclip_lit.loggers.wandb_media import curve_charts

        self.run.log(curve_charts(category, curves))

    def samples(self, category: str, samples: Sequence[SampleTriple], threshold: float) -> None:
        """``<category>/samples``: overlays with prediction and ground-truth masks."""
        from winclip_lit.loggers.wandb_media import sample_images

        self.run.log({f"{category}/samples": sample_images(samples, threshold)})

    def table(self, key: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """A ``wandb.Table`` under ``key``."""
        import wandb

        self.run.log({key: wandb.Table(columns=list(columns), data=[list(row) for row in rows])})

    def bars(self, results: Mapping[str, Mapping[str, float | None]], keys: Sequence[str]) -> None:
        """``metrics/<metric>`` bar charts over the categories."""
        from winclip_lit.loggers.wandb_media import metric_bar_charts

        self.run.log(metric_bar_charts(results, keys))

    def artifacts(self, name: str, kind: str, files: Sequence[Path]) -> None:
        """One W&B artifact of the existing ``files``."""
        from winclip_lit.loggers.build import log_artifacts

        log_artifacts([self.logger], name, kind, files)
