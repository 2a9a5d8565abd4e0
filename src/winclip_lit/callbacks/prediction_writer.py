"""Lightning prediction writer: per-image scores (rows of ``scores.csv``), map overlays and masks (PNG)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from lightning.pytorch.callbacks import BasePredictionWriter

from winclip_lit.gather import gather_from_ranks
from winclip_lit.reporting.predictions import write_image_result


class PredictionWriter(BasePredictionWriter):
    """Writes each batch's overlays as it comes; gathers the rows of every rank at the end of the epoch.

    Args:
        output_dir: The run folder (overlays go to ``overlays/``).
        files: Every input image, in dataset order.
        overlay_names: The unique overlay name of each image (same order).
        threshold: Image threshold of the ``anomalous`` column.
        pixel_threshold: Threshold of the overlay outlines and ``masks/`` (default ``threshold``).
        also: Called with each scored image's path and its map at the image's size on the rank that scored
            it, for more files per image (e.g. :func:`~winclip_lit.reporting.submission.write_submission_image`).
    """

    def __init__(
        self,
        output_dir: Path,
        files: Sequence[Path],
        overlay_names: Sequence[str],
        threshold: float,
        pixel_threshold: float | None = None,
        also: Callable[[Path, Any], Any] | None = None,
    ):
        super().__init__(write_interval="batch_and_epoch")
        self.output_dir, self.files, self.names, self.threshold = output_dir, files, overlay_names, threshold
        self.pixel_threshold, self.also = pixel_threshold, also
        self._mine: list[tuple[int, list[Any] | None, str]] = []
        self.rows: list[list[Any]] = []
        self.skipped: list[tuple[str, str]] = []

    def write_on_batch_end(self, trainer: Any, pl_module: Any, prediction: Any, *args: Any) -> None:
        for index, ok, reason, score, anomaly_map in zip(
            prediction["index"],
            prediction["ok"],
            prediction["reason"],
            prediction["scores"],
            prediction["maps"],
            strict=True,
        ):
            index = int(index)
            if not ok:
                self._mine.append((index, None, reason))
                continue
            row = write_image_result(
                self.output_dir,
                self.files[index],
                self.names[index],
                score,
                anomaly_map,
                self.threshold,
                self.pixel_threshold,
                self.also,
            )
            self._mine.append((index, row, ""))

    def write_on_epoch_end(self, trainer: Any, pl_module: Any, predictions: Any, batch_indices: Any) -> None:
        entries = [e for part in gather_from_ranks(self._mine, trainer.world_size) for e in part]
        by_index = {}
        for index, row, reason in entries:  # DDP padding repeats some images: keep one of each
            by_index.setdefault(index, (row, reason))
        self.rows = [by_index[i][0] for i in sorted(by_index) if by_index[i][0] is not None]
        self.skipped = [
            (str(self.files[i]), by_index[i][1]) for i in sorted(by_index) if by_index[i][0] is None
        ]
