"""The dashboard as PNG files below ``<run dir>/figures/`` (every logger, ``none`` included; see
``winclip_lit.reporting.figures`` for the layout)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from winclip_lit.loggers.view import SampleTriple, View
from winclip_lit.metrics.curves import Curve


class FiguresView(View):
    """Writes curves, sample overlays and the per-category bars of a run folder (``dashboard.figures``)."""

    def __init__(self, run_dir: str | Path) -> None:
        self.run_dir = Path(run_dir)

    def curves(self, category: str, curves: Mapping[str, Curve]) -> None:
        """``figures/<category>/curves.png``."""
        from winclip_lit.reporting.figures import write_category_figures

        write_category_figures(self.run_dir, category, curves)

    def samples(self, category: str, samples: Sequence[SampleTriple], threshold: float) -> None:
        """``figures/<category>/samples/<nn>_<defect>_<stem>.png``."""
        from winclip_lit.reporting.figures import write_category_figures

        write_category_figures(self.run_dir, category, {}, samples, threshold)

    def bars(self, results: Mapping[str, Mapping[str, float | None]], keys: Sequence[str]) -> None:
        """``figures/metrics.png``."""
        from winclip_lit.reporting.figures import draw_metric_bars, figures_dir

        if results:
            draw_metric_bars(figures_dir(self.run_dir) / "metrics.png", results, keys)
