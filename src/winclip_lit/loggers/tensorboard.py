"""The dashboard in TensorBoard, in one event stream per run: figures and titled sample overlays as
images, image PR curves as native PR curves, score histograms, tables and the config as Markdown text,
and an HParams entry (result-defining keys, mean metrics) that a sweep compares in the HParams view.

Lightning's ``TensorBoardLogger`` closes its writer after every ``trainer.test`` (one per category), so
each category's values would land in an event file of their own; :class:`TensorBoardLogger` here keeps
the writer open until the run ends (``conf/logger/tensorboard.yaml``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from lightning.pytorch.loggers import TensorBoardLogger as LightningTensorBoardLogger

from winclip_lit.loggers.view import SampleTriple, View
from winclip_lit.metrics.curves import Curve
from winclip_lit.samples import ImageResult


class TensorBoardLogger(LightningTensorBoardLogger):
    """Lightning's TensorBoardLogger writing one event file per run: ``finalize`` (after each
    ``trainer.test``) flushes, :meth:`close` (at the end of the run) closes."""

    def finalize(self, status: str) -> None:
        """Flush the events written so far; the writer stays open for the next category."""
        if self._experiment is not None:
            self._experiment.flush()

    def close(self, status: str = "success") -> None:
        """Flush and close the writer, save ``hparams.yaml``."""
        super().finalize(status)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value).replace("|", "\\|")


def markdown_table(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A Markdown table of ``rows`` (floats with 4 significant digits, None empty)."""
    from winclip_lit.reporting.tables import markdown

    return markdown(list(columns), [[_cell(v) for v in row] for row in rows])


def hparam_value(value: Any) -> int | float | str | bool:
    """A value TensorBoard's HParams plugin accepts: numbers and booleans as they are, else text."""
    if isinstance(value, bool | int | float | str):
        return value
    return "null" if value is None else str(value)


class TensorBoardView(View):
    """Shows the panels in the ``SummaryWriter`` of a Lightning ``TensorBoardLogger`` (step 0)."""

    def __init__(self, logger: Any) -> None:
        self.writer = logger.experiment

    def _image(self, tag: str, figure: Any) -> None:
        from winclip_lit.reporting.figures import figure_pixels

        self.writer.add_image(tag, figure_pixels(figure), 0, dataformats="HWC")

    def curves(self, category: str, curves: Mapping[str, Curve]) -> None:
        """``<category>/curves``: the ROC / PR / PRO figure."""
        from winclip_lit.reporting.figures import curves_figure

        self._image(f"{category}/curves", curves_figure(curves, title=category)[0])

    def samples(self, category: str, samples: Sequence[SampleTriple], threshold: float) -> None:
        """``<category>/samples/<nn>_<defect>_<stem>``: overlays titled with defect type and score."""
        from winclip_lit.reporting.figures import overlay_name, sample_figure

        for order, (result, anomaly_map, mask) in enumerate(samples):
            name = overlay_name(order, result.defect, result.file).removesuffix(".png")
            self._image(f"{category}/samples/{name}", sample_figure(result, anomaly_map, threshold, mask))

    def scores(self, category: str, images: Sequence[ImageResult]) -> None:
        """``<category>/scores/{normal,defective}`` histograms and the ``<category>/image_pr`` PR curve."""
        labels = np.array([int(r.label) for r in images], dtype=bool)
        scores = np.array([float(r.score) for r in images], dtype=np.float64)
        for name, chosen in (("normal", ~labels), ("defective", labels)):
            if chosen.any():
                self.writer.add_histogram(f"{category}/scores/{name}", scores[chosen], 0)
        if labels.any() and (~labels).any():
            self.writer.add_pr_curve(f"{category}/image_pr", labels, np.clip(scores, 0.0, 1.0), 0)

    def table(self, key: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """The table as Markdown text under ``key``."""
        self.writer.add_text(key, markdown_table(columns, rows), 0)

    def bars(self, results: Mapping[str, Mapping[str, float | None]], keys: Sequence[str]) -> None:
        """``metrics/bars``: the per-category bar chart."""
        from winclip_lit.reporting.figures import bars_figure

        self._image("metrics/bars", bars_figure(results, keys)[0])

    def text(self, key: str, markdown: str) -> None:
        """Markdown text under ``key``."""
        self.writer.add_text(key, markdown, 0)

    def hparams(self, params: Mapping[str, Any], metrics: Mapping[str, float]) -> None:
        """One HParams session in this run's event stream; its metrics are the run's scalars of the same tags."""
        from torch.utils.tensorboard.summary import hparams

        clean = {key: hparam_value(value) for key, value in params.items()}
        file_writer = self.writer._get_file_writer()
        for summary in hparams(clean, dict(metrics)):
            file_writer.add_summary(summary)
        self.writer.flush()
