"""Per-image results of a category and the deterministic choice of the images shown as samples.

Taking the first N sorted test images shows a single defect type on MVTec-AD (``test/broken_large``
sorts first) and no normal image; :func:`sample_indices` spreads the N images over the normal
images and every defect type instead, independently of the scores, so every run, seed and rank
shows the same images.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class ImageResult:
    """One test image's outcome (a row of the per-image table).

    Attributes:
        file: Image file.
        defect: Defect type (``"good"`` for normal images).
        label: 0 normal, 1 anomalous.
        score: Image anomaly score.
        map_max: Maximum of the anomaly map, or None when not kept.
    """

    file: str
    defect: str
    label: int
    score: float
    map_max: float | None = None


IMAGE_TABLE_COLUMNS = ("file", "defect", "label", "image_score", "map_max")
"""Columns of the per-image table."""


def image_rows(results: Sequence[ImageResult]) -> list[list[object]]:
    """Rows of the per-image table (:data:`IMAGE_TABLE_COLUMNS`)."""
    return [
        [r.file, r.defect, int(r.label), float(r.score), None if r.map_max is None else float(r.map_max)]
        for r in results
    ]


def sample_indices(files: Sequence[str], defects: Sequence[str], labels: Sequence[int], n: int) -> list[int]:
    """Up to ``n`` images spread across the normal images and every defect type.

    Groups: the normal images (label 0) first, then one group per defect type in sorted order;
    inside a group, files in sorted order. The groups take turns (round robin) until ``n`` images
    are chosen or all are taken; a group that runs out is skipped.

    Args:
        files: Image file of each test image.
        defects: Defect type of each image (``"good"`` for normal ones).
        labels: 0 normal, 1 anomalous.
        n: How many images to choose (0 or more).

    Returns:
        Indices into the inputs, in the order chosen (normal, defect A, defect B, normal, ...).

    Examples:
        >>> files = ["b/0.png", "b/1.png", "c/0.png", "g/0.png", "g/1.png"]
        >>> sample_indices(files, ["broken", "broken", "crack", "good", "good"], [1, 1, 1, 0, 0], 4)
        [3, 0, 2, 4]
    """
    if not len(files) == len(defects) == len(labels):
        raise ValueError(
            f"files, defects and labels differ in length ({len(files)}, {len(defects)}, {len(labels)})"
        )
    groups: dict[tuple[int, str], list[int]] = {}
    for i, (defect, label) in enumerate(zip(defects, labels, strict=True)):
        groups.setdefault((0 if int(label) == 0 else 1, str(defect)), []).append(i)
    queues = [sorted(members, key=lambda i: (str(files[i]), i)) for _, members in sorted(groups.items())]
    chosen: list[int] = []
    depth = 0
    while len(chosen) < n and any(depth < len(q) for q in queues):
        for queue in queues:
            if depth < len(queue) and len(chosen) < n:
                chosen.append(queue[depth])
        depth += 1
    return chosen


def choose_samples(results: Sequence[ImageResult], n: int) -> list[ImageResult]:
    """The ``n`` results that :func:`sample_indices` picks, in the order chosen."""
    picked = sample_indices(
        [r.file for r in results], [r.defect for r in results], [r.label for r in results], n
    )
    return [results[i] for i in picked]
