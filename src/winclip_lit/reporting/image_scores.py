"""Per-image results of an evaluation: ``scores/<category>.csv`` (one row per test image) and the score
histogram with the category's thresholds, so that any metric can be recomputed without rerunning.

The W&B per-image table is built from the same rows (:func:`score_rows`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from winclip_lit.reporting.tables import write_csv
from winclip_lit.samples import ImageResult

SCORES_DIR = "scores"
"""Folder of the per-image CSV files inside a run folder."""

IMAGE_SCORE_COLUMNS = ["image", "label", "defect", "image_score", "max_pixel_score"]
"""The columns of ``scores/<category>.csv``."""


def relative_name(file: str | Path, root: str | Path) -> str:
    """``file`` relative to the dataset root (as given when it lies elsewhere), with forward slashes."""
    try:
        return Path(file).relative_to(Path(root)).as_posix()
    except ValueError:
        return Path(file).as_posix()


def score_rows(images: Sequence[ImageResult], root: str | Path) -> list[list[Any]]:
    """Rows of ``scores/<category>.csv`` (:data:`IMAGE_SCORE_COLUMNS`), sorted by image path.

    Args:
        images: The category's per-image results (``WinCLIPModule.images`` after its test loop).
        root: The dataset root the image paths are written relative to.
    """
    rows = [
        [
            relative_name(r.file, root),
            int(r.label),
            r.defect,
            float(r.score),
            None if r.map_max is None else float(r.map_max),
        ]
        for r in images
    ]
    return sorted(rows, key=lambda row: row[0])


def scores_path(run_dir: str | Path, category: str) -> Path:
    """``<run dir>/scores/<category>.csv`` (``/`` in a category name becomes ``_``)."""
    return Path(run_dir) / SCORES_DIR / f"{str(category).replace('/', '_')}.csv"


def write_category_scores(
    run_dir: str | Path,
    category: str,
    images: Sequence[ImageResult],
    root: str | Path,
    thresholds: Mapping[str, Any] | None = None,
    figures: bool = True,
) -> list[Path]:
    """Write ``scores/<category>.csv`` and (with ``figures``) ``figures/<category>/histogram.png``.

    Args:
        run_dir: The run folder.
        category: Category name.
        images: Its per-image results.
        root: The dataset root (image paths are written relative to it).
        thresholds: The category's thresholds (``engine.calibration``), drawn on the histogram; None: none.
        figures: Also draw the histogram.

    Returns:
        The files written.
    """
    rows = score_rows(images, root)
    written = [write_csv(scores_path(run_dir, category), IMAGE_SCORE_COLUMNS, rows)]
    if figures and rows:
        from winclip_lit.reporting.figures import category_figure_paths, draw_score_histogram

        curves_png, _ = category_figure_paths(run_dir, category)
        thresholds = thresholds or {}
        panels = {"image score": ([row[3] for row in rows], thresholds.get("image"))}
        if all(row[4] is not None for row in rows):
            panels["max pixel score"] = ([row[4] for row in rows], thresholds.get("pixel"))
        histogram = curves_png.with_name("histogram.png")
        draw_score_histogram(histogram, [row[1] for row in rows], panels, title=category)
        written.append(histogram)
    return written
