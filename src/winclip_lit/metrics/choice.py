"""Which metrics a test set defines: image metrics need normal and anomalous test images, pixel metrics
need masks (a meta.json set may lack either; docs/metrics.md)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

PIXEL_PREFIX = "pixel_"
"""Keys of the pixel-level metrics start with this."""

V = TypeVar("V")


def defined_metrics(results: Mapping[str, V], both_labels: bool) -> dict[str, V]:
    """``results`` without the image-level keys (and mAD) when the test set has only anomalous images.

    Pixel keys are absent already when the set has no masks (the metrics were built without them).

    Examples:
        >>> defined_metrics({"image_auroc": 0.5, "pixel_auroc": 0.9, "mad": 0.7}, both_labels=False)
        {'pixel_auroc': 0.9}
    """
    if both_labels:
        return dict(results)
    return {key: value for key, value in results.items() if key.startswith(PIXEL_PREFIX)}
