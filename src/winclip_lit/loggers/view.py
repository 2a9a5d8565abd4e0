"""What a dashboard panel can show, and the base of the per-logger views that show it.

A panel (``winclip_lit.callbacks.panels``) is written once against :class:`View`; each logger kind has
one small view that shows each kind of content in its own idiom (W&B charts and tables, TensorBoard
images, text, histograms, PR curves and HParams, MLflow artifacts, CSV files, PNGs on disk). Every
method is a no-op here, so a view implements only what its logger can show.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from winclip_lit.metrics.curves import Curve
from winclip_lit.samples import ImageResult

SampleTriple = tuple[ImageResult, Any, Any]
"""A sample shown as an overlay: its per-image result, its (H, W) anomaly map, its mask or None."""


class View:
    """One place where the dashboard shows its panels (a logger, or the run folder's figures)."""

    def curves(self, category: str, curves: Mapping[str, Curve]) -> None:
        """A category's image/pixel ROC and PR curves and its PRO curve."""

    def samples(self, category: str, samples: Sequence[SampleTriple], threshold: float) -> None:
        """A category's sample overlays (image | map | ground truth) with the outline ``threshold``."""

    def scores(self, category: str, images: Sequence[ImageResult]) -> None:
        """A category's image scores of normal vs defective images (histogram, image PR curve)."""

    def table(self, key: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """A table (``<category>/images``, ``results``, ...)."""

    def bars(self, results: Mapping[str, Mapping[str, float | None]], keys: Sequence[str]) -> None:
        """Per-category bars of the metrics ``keys`` (fractions)."""

    def text(self, key: str, markdown: str) -> None:
        """A Markdown text (the resolved config, ...)."""

    def hparams(self, params: Mapping[str, Any], metrics: Mapping[str, float]) -> None:
        """The run's result-defining keys and its mean metrics, for comparing the jobs of a sweep."""

    def artifacts(self, name: str, kind: str, files: Sequence[Path]) -> None:
        """Result files of the run (``metrics.json/.md/.csv``)."""
