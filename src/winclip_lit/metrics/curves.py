"""The curves behind the metrics: image and pixel ROC and PR, and the PRO curve up to the FPR limit.

The curves are read off the same exact ranking (:mod:`winclip_lit.metrics.ranking`) as the metric
values, so each curve's trapezoidal area is the metric that :class:`AnomalyMetrics` reports:
AUROC under ROC, AP under the PR step curve (sklearn's rule), AUPRO (area / ``fpr_limit``) under
the PRO curve (MVTec AD definition, WinCLIP paper arXiv 2303.14814, section 4 / docs/algorithm.md 8).
For plotting, :meth:`Curve.downsample` keeps at most ``max_points`` of the vertices.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from winclip_lit.metrics.ranking import (
    RankCurve,
    pr_points,
    pro_points,
    roc_points,
    trapezoid,
    truncate,
)

CURVE_KEYS = ("image_roc", "image_pr", "pixel_roc", "pixel_pr", "pixel_pro")
"""Keys of :meth:`AnomalyMetrics.curves`, in this order (the pixel ones only with pixel metrics)."""

CURVE_TITLES = {
    "image_roc": "image ROC",
    "image_pr": "image PR",
    "pixel_roc": "pixel ROC",
    "pixel_pr": "pixel PR",
    "pixel_pro": "PRO",
}
"""Human names of the curve keys."""


@dataclass(frozen=True)
class Curve:
    """A curve as a polyline of operating points.

    Attributes:
        x: Abscissae, non-decreasing (float64).
        y: Ordinates (float64).
        x_label: Name of x (``"FPR"``, ``"recall"``).
        y_label: Name of y (``"TPR"``, ``"precision"``, ``"PRO"``).
        metric: The key of ``METRIC_KEYS`` that ``area`` is (``"pixel_aupro"``, ...).
        area: The metric: trapezoidal area of the full curve divided by its x extent
            (1 for ROC and PR, ``fpr_limit`` for PRO); unchanged by :meth:`downsample`.
    """

    x: np.ndarray
    y: np.ndarray
    x_label: str
    y_label: str
    metric: str
    area: float

    def __len__(self) -> int:
        return len(self.x)

    def downsample(self, max_points: int | None) -> Curve:
        """At most ``max_points`` vertices that keep the shape and both end points.

        Vertices are picked evenly along the curve's length (both axes scaled to their extent),
        taking both ends of every run longer than the spacing, so corners survive; the picked
        points are operating points of the full curve. ``None`` keeps every vertex.

        Examples:
            >>> curve = Curve(np.linspace(0, 1, 5000), np.linspace(0, 1, 5000) ** 0.5, "FPR", "TPR", "x", 0.0)
            >>> small = curve.downsample(1000)
            >>> len(small) <= 1000, float(small.x[0]), float(small.x[-1])
            (True, 0.0, 1.0)
        """
        if max_points is None or len(self) <= max_points:
            return self
        keep = spread_indices(self.x, self.y, max_points)
        return replace(self, x=self.x[keep], y=self.y[keep])


def spread_indices(x: np.ndarray, y: np.ndarray, max_points: int) -> np.ndarray:
    """Indices of at most ``max_points`` vertices spread evenly along the polyline's length.

    Args:
        x: Abscissae of a polyline without repeated consecutive points.
        y: Ordinates.
        max_points: Budget, >= 2.

    Returns:
        Sorted unique indices including 0 and ``len(x) - 1``.
    """
    if max_points < 2:
        raise ValueError(f"max_points must be >= 2, got {max_points}")
    scale_x = float(np.ptp(x)) or 1.0
    scale_y = float(np.ptp(y)) or 1.0
    length = np.concatenate(([0.0], np.cumsum(np.hypot(np.diff(x) / scale_x, np.diff(y) / scale_y))))
    targets = np.linspace(0.0, length[-1], max_points // 2)
    after = np.searchsorted(length, targets, side="left")
    before = np.searchsorted(length, targets, side="right") - 1
    picked = np.concatenate(([0, len(x) - 1], after.clip(0, len(x) - 1), before.clip(0, len(x) - 1)))
    return np.unique(picked)


def _polyline(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Drops repeated consecutive points (they add no area and no shape)."""
    keep = np.ones(len(x), dtype=bool)
    keep[1:] = (np.diff(x) != 0) | (np.diff(y) != 0)
    return x[keep], y[keep]


def _curve(x: np.ndarray, y: np.ndarray, labels: tuple[str, str], metric: str, extent: float) -> Curve:
    x, y = _polyline(x, y)
    return Curve(x, y, labels[0], labels[1], metric, trapezoid(x, y) / extent)


def roc(rank: RankCurve, level: str) -> Curve | None:
    """The ROC curve (FPR, TPR); None without positives or negatives (AUROC undefined)."""
    if rank.n_pos == 0 or rank.n_neg == 0:
        return None
    return _curve(*roc_points(rank), ("FPR", "TPR"), f"{level}_auroc", 1.0)


def precision_recall(rank: RankCurve, level: str) -> Curve | None:
    """The precision-recall step curve (recall, precision); None without positives (AP undefined)."""
    if rank.n_pos == 0:
        return None
    return _curve(*pr_points(rank), ("recall", "precision"), f"{level}_ap", 1.0)


def pro(rank: RankCurve, n_regions: int, fpr_limit: float) -> Curve | None:
    """The PRO curve (FPR, PRO) for FPR in [0, ``fpr_limit``]; None when AUPRO is undefined."""
    if n_regions == 0 or rank.n_neg == 0:
        return None
    x, y = truncate(*pro_points(rank, n_regions), fpr_limit)
    return _curve(x, y, ("FPR", "PRO"), "pixel_aupro", fpr_limit)


def all_curves(
    image: RankCurve,
    pixel: RankCurve | None,
    n_regions: int,
    fpr_limit: float,
    max_points: int | None = 1000,
) -> dict[str, Curve]:
    """The curves of one category, keyed like CURVE_KEYS, each downsampled to ``max_points``.

    Undefined curves (a metric that would be NaN) are left out.
    """
    curves = {"image_roc": roc(image, "image"), "image_pr": precision_recall(image, "image")}
    if pixel is not None:
        curves["pixel_roc"] = roc(pixel, "pixel")
        curves["pixel_pr"] = precision_recall(pixel, "pixel")
        curves["pixel_pro"] = pro(pixel, n_regions, fpr_limit)
    return {key: curve.downsample(max_points) for key, curve in curves.items() if curve is not None}
