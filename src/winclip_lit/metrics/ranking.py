"""Exact ranking curves and the metrics read off them (NumPy, int64 counts, float64 sums).

A curve is described only at the distinct scores of the positives: between two of them the
positive counts are constant, so every metric (ROC area, average precision, F1-max, PRO area)
is exactly determined by the positive and negative counts at those scores. Ties are merged:
every distinct score is one threshold.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class RankCurve:
    """Operating points at each distinct positive score ``v``, in descending order of ``v``.

    Attributes:
        pos_count: Number of positives with score >= v (int64).
        pos_weight: Summed weight of the positives with score >= v (float64).
        neg_ge: Number of negatives with score >= v (int64).
        neg_gt: Number of negatives with score > v (int64).
        n_pos: Total number of positives.
        n_neg: Total number of negatives.
    """

    pos_count: np.ndarray
    pos_weight: np.ndarray
    neg_ge: np.ndarray
    neg_gt: np.ndarray
    n_pos: int
    n_neg: int


def curve_from_scores(
    neg_sorted: np.ndarray, pos: np.ndarray, pos_weights: np.ndarray | None = None
) -> RankCurve:
    """Builds the exact curve from raw scores.

    Args:
        neg_sorted: Scores of the negatives, sorted ascending.
        pos: Scores of the positives, any order, same dtype as ``neg_sorted``.
        pos_weights: Optional weight of each positive (default 1).

    Returns:
        The curve at the distinct positive scores.
    """
    order = np.argsort(pos)[::-1]
    values = pos[order]
    last = np.ones(len(values), dtype=bool)
    last[:-1] = values[1:] != values[:-1]
    ends = np.flatnonzero(last).astype(np.int64) + 1
    distinct = values[ends - 1]
    if pos_weights is None:
        weight = ends.astype(np.float64)
    else:
        weight = np.cumsum(pos_weights[order], dtype=np.float64)[ends - 1]
    n_neg = len(neg_sorted)
    return RankCurve(
        pos_count=ends,
        pos_weight=weight,
        neg_ge=n_neg - np.searchsorted(neg_sorted, distinct, side="left").astype(np.int64),
        neg_gt=n_neg - np.searchsorted(neg_sorted, distinct, side="right").astype(np.int64),
        n_pos=len(values),
        n_neg=n_neg,
    )


def curve_from_histograms(
    neg_hist: np.ndarray, pos_hist: np.ndarray, pos_weight_hist: np.ndarray | None = None
) -> RankCurve:
    """Builds the curve from per-bin counts; bin index plays the role of the score.

    Args:
        neg_hist: Negatives per bin, shape (T,).
        pos_hist: Positives per bin, shape (T,).
        pos_weight_hist: Optional summed positive weight per bin, shape (T,).

    Returns:
        The curve at the non-empty positive bins, highest bin first.
    """
    neg_hist = np.asarray(neg_hist, dtype=np.int64)
    pos_hist = np.asarray(pos_hist, dtype=np.int64)
    weights = pos_hist if pos_weight_hist is None else np.asarray(pos_weight_hist, dtype=np.float64)
    bins = np.flatnonzero(pos_hist > 0)[::-1]
    neg_ge = np.cumsum(neg_hist[::-1])[::-1][bins]
    return RankCurve(
        pos_count=np.cumsum(pos_hist[::-1])[::-1][bins],
        pos_weight=np.cumsum(weights[::-1], dtype=np.float64)[::-1][bins],
        neg_ge=neg_ge,
        neg_gt=neg_ge - neg_hist[bins],
        n_pos=int(pos_hist.sum()),
        n_neg=int(neg_hist.sum()),
    )


def undefined(name: str, reason: str) -> float:
    """Warns once that a metric is undefined and returns NaN."""
    warnings.warn(f"{name} is undefined ({reason}); returning NaN.", UserWarning, stacklevel=3)
    return math.nan


def auroc(curve: RankCurve) -> float:
    """Area under the ROC curve (trapezoidal, ties count one half), as sklearn's roc_auc_score."""
    if curve.n_pos == 0 or curve.n_neg == 0:
        return undefined("AUROC", "needs both positive and negative samples")
    new_pos = np.diff(curve.pos_count, prepend=0)
    below = curve.n_neg - curve.neg_ge
    ties = curve.neg_ge - curve.neg_gt
    return float(np.sum(new_pos * (below + 0.5 * ties)) / (curve.n_pos * curve.n_neg))


def average_precision(curve: RankCurve) -> float:
    """Sum over thresholds of recall increase times precision, as sklearn's average_precision_score."""
    if curve.n_pos == 0:
        return undefined("AP", "no positive samples")
    new_pos = np.diff(curve.pos_count, prepend=0)
    precision = curve.pos_count / (curve.pos_count + curve.neg_ge)
    return float(np.sum(new_pos * precision) / curve.n_pos)


def f1_max(curve: RankCurve) -> float:
    """Maximum over all thresholds of F1 = 2TP / (TP + FP + P)."""
    if curve.n_pos == 0:
        return undefined("F1-max", "no positive samples")
    f1 = 2.0 * curve.pos_count / (curve.pos_count + curve.neg_ge + curve.n_pos)
    return float(f1.max())


def aupro(curve: RankCurve, n_regions: int, fpr_limit: float) -> float:
    """Normalised area under the PRO-vs-FPR curve up to ``fpr_limit`` (MVTec AD definition).

    ``curve.pos_weight`` must hold, per threshold, the sum over anomalous pixels at/above it of
    1 / (area of the pixel's region), so that ``pos_weight / n_regions`` is the mean PRO.

    Args:
        curve: Pixel curve with region weights.
        n_regions: Number of ground-truth regions.
        fpr_limit: Integration limit in (0, 1].

    Returns:
        Trapezoidal area up to ``fpr_limit`` (linear interpolation at the limit) / ``fpr_limit``.
    """
    if n_regions == 0:
        return undefined("AUPRO", "no anomalous regions")
    if curve.n_neg == 0:
        return undefined("AUPRO", "no normal pixels")
    return trapezoid(*truncate(*pro_points(curve, n_regions), fpr_limit)) / fpr_limit


def _staircase(curve: RankCurve, pos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Negative counts and positive amounts at every vertex of a ROC-like polyline.

    From (0, 0), per threshold ``v`` (descending): the horizontal reach to just above ``v``
    (negatives > v, positives of the previous threshold), then the step at ``v`` itself (negatives
    >= v, positives >= v; diagonal when negatives tie with positives); finally (all negatives,
    all positives). Needs at least one positive.
    """
    k = len(curve.pos_count)
    counts = np.empty(2 * k + 2, dtype=np.int64)
    values = np.empty(2 * k + 2, dtype=np.float64)
    counts[0], values[0] = 0, 0.0
    counts[1:-1:2], values[1:-1:2] = curve.neg_gt, np.concatenate(([0.0], pos[:-1]))
    counts[2:-1:2], values[2:-1:2] = curve.neg_ge, pos
    counts[-1], values[-1] = curve.n_neg, pos[-1]
    return counts, values


def roc_points(curve: RankCurve) -> tuple[np.ndarray, np.ndarray]:
    """Every vertex of the exact ROC polyline, (FPR, TPR) from (0, 0) to (1, 1).

    Its trapezoidal area is :func:`auroc`; every point of
    ``sklearn.metrics.roc_curve(drop_intermediate=False)`` lies on it. Needs positives and negatives.
    """
    counts, tps = _staircase(curve, curve.pos_count.astype(np.float64))
    return counts / curve.n_neg, tps / curve.n_pos


def pro_points(curve: RankCurve, n_regions: int) -> tuple[np.ndarray, np.ndarray]:
    """Every vertex of the PRO polyline, (FPR, mean PRO) over FPR in [0, 1].

    ``curve.pos_weight`` holds the summed 1/region-area weights (see :func:`aupro`). Needs
    regions and normal pixels.
    """
    counts, weight = _staircase(curve, curve.pos_weight)
    return counts / curve.n_neg, weight / n_regions


def pr_points(curve: RankCurve) -> tuple[np.ndarray, np.ndarray]:
    """Every vertex of the precision-recall step polyline, (recall, precision).

    From (0, 1), per threshold ``v`` (descending): down to the precision just above ``v``
    (negatives > v added, recall unchanged), to the precision at ``v``, then right to the recall
    at ``v``; finally down to (1, positives / all). The horizontal runs sit at the precision of
    each threshold, so the trapezoidal area is :func:`average_precision` (sklearn's step rule),
    and every point of ``sklearn.metrics.precision_recall_curve`` lies on it. Needs positives.
    """
    pos = curve.pos_count
    prev = np.concatenate(([0], pos[:-1]))
    recall, prev_recall = pos / curve.n_pos, prev / curve.n_pos
    precision = pos / (pos + curve.neg_ge)
    above = prev + curve.neg_gt
    just_above = np.divide(prev, above, out=np.ones(len(pos)), where=above > 0)
    k = len(pos)
    x, y = np.empty(3 * k + 2), np.empty(3 * k + 2)
    x[0], y[0] = 0.0, 1.0
    x[1:-1:3], y[1:-1:3] = prev_recall, just_above
    x[2:-1:3], y[2:-1:3] = prev_recall, precision
    x[3:-1:3], y[3:-1:3] = recall, precision
    x[-1], y[-1] = 1.0, curve.n_pos / (curve.n_pos + curve.n_neg)
    return x, y


def trapezoid(x: np.ndarray, y: np.ndarray) -> float:
    """Trapezoidal area under the polyline (x, y) (vertical runs add nothing)."""
    return float(np.sum((x[1:] - x[:-1]) * (y[1:] + y[:-1])) / 2.0)


def truncate(x: np.ndarray, y: np.ndarray, limit: float) -> tuple[np.ndarray, np.ndarray]:
    """The polyline up to x = ``limit``, ending in a point interpolated linearly at the limit.

    Args:
        x: Non-decreasing abscissae starting at 0 and reaching at least ``limit``.
        y: Ordinates.
        limit: Where to cut, > 0.

    Returns:
        The vertices with x < ``limit``, then (``limit``, y at the limit); at a vertical run at
        the limit, its first point.
    """
    idx = int(np.searchsorted(x, limit, side="left"))
    x0, y0, x1, y1 = x[idx - 1], y[idx - 1], x[idx], y[idx]
    y_limit = y0 + (y1 - y0) * (limit - x0) / (x1 - x0)
    return np.append(x[:idx], limit), np.append(y[:idx], y_limit)
