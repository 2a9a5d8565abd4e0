"""Decision thresholds from scores (pure torch): split-conformal, F1-optimal, and the rates they realise.

Everywhere, as in ``predict``, a score at or above the threshold is anomalous. See docs/thresholds.md.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from fractions import Fraction
from typing import Any, NamedTuple

import numpy as np
import torch
from torch import Tensor

from winclip_lit.config.errors import ConfigError
from winclip_lit.metrics.ranking import curve_from_scores
from winclip_lit.metrics.validation import check_pair, check_scores

THRESHOLD_KEYS = ("image_threshold", "image_fpr", "image_tpr", "pixel_threshold", "pixel_fpr", "pixel_tpr")
"""Keys of a category's results under a decision threshold: the thresholds and the rates they realise."""


class Rates(NamedTuple):
    """False and true positive rates realised at one threshold (NaN where a class is absent)."""

    fpr: float
    tpr: float


def _decimal(alpha: float) -> Fraction:
    """``alpha`` as the decimal it is written as (0.01 is exactly 1/100, not its binary neighbour)."""
    return Fraction(repr(float(alpha)))


def _check_alpha(alpha: float) -> None:
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0.0 < alpha < 1.0:
        raise ConfigError(f"threshold.alpha={alpha}: a false-alarm rate in (0, 1), e.g. 0.01")


def min_calibration(alpha: float) -> int:
    """The fewest calibration scores ``n`` for which the conformal threshold exists: n + 1 >= 1/alpha.

    Examples:
        >>> min_calibration(0.01), min_calibration(0.05), min_calibration(0.3)
        (99, 19, 3)
    """
    _check_alpha(alpha)
    return math.ceil(1 / _decimal(alpha)) - 1


def conformal_rank(n: int, alpha: float) -> int:
    """The rank k = ceil((n + 1)(1 - alpha)) of the split-conformal quantile among n calibration scores.

    Computed exactly (``alpha`` read as a decimal). Raises a one-line :class:`ConfigError` naming
    ``threshold.num_calibration`` and ``threshold.alpha`` when k > n, i.e. n + 1 < 1/alpha.

    Examples:
        >>> conformal_rank(99, 0.01), conformal_rank(100, 0.01), conformal_rank(9, 0.3)
        (99, 100, 7)
    """
    needed = min_calibration(alpha)
    if n < needed:
        raise ConfigError(
            f"threshold.num_calibration={n} is too small for threshold.alpha={alpha}: a conformal threshold "
            f"needs n + 1 >= 1/alpha, i.e. at least {needed} normal calibration images; raise "
            "threshold.num_calibration or threshold.alpha"
        )
    return math.ceil((n + 1) * (1 - _decimal(alpha)))


def conformal_threshold(scores: Tensor, alpha: float) -> float:
    """Split-conformal threshold with a false-alarm rate of at most ``alpha``.

    The k-th smallest of the n calibration scores, k = ceil((n + 1)(1 - alpha)), is the quantile q;
    the threshold returned is the next number above q in the scores' dtype, so that "score >= threshold"
    flags exactly the scores above q. For a normal score exchangeable with the calibration scores,
    P(score > q) <= 1 - k/(n + 1) <= alpha, ties included; for continuous scores (no ties) it is also
    >= alpha - 1/(n + 1). For maps, pass each calibration image's maximum pixel score: "any pixel
    flagged" then has the same guarantee per image.

    Args:
        scores: Anomaly scores of n normal calibration images, any shape (flattened), float.
        alpha: The false-alarm rate to guarantee, in (0, 1).

    Returns:
        The threshold, a float exactly representable in the scores' dtype.

    Raises:
        ConfigError: One line when n + 1 < 1/alpha or alpha is outside (0, 1).
    """
    check_scores(scores, "calibration scores")
    values = scores.detach().reshape(-1).cpu()
    if values.dtype not in (torch.float32, torch.float64):
        values = values.float()  # half precision: the float32 neighbour of q still separates "> q"
    k = conformal_rank(len(values), alpha)
    quantile = torch.kthvalue(values, k).values
    return float(torch.nextafter(quantile, torch.tensor(math.inf, dtype=values.dtype)))


def f1_threshold(scores: Tensor, labels: Tensor) -> float:
    """The threshold of the best F1 = 2TP / (2TP + FP + FN) on a labelled (validation) set.

    Candidates are the distinct scores of the anomalous samples (every other threshold flags the same
    anomalies as the next such score below it, and more normal ones); among equal best F1 the highest
    threshold (fewest alarms) wins.

    Args:
        scores: Anomaly scores, any shape, float.
        labels: 1 = anomalous, 0 = normal, same shape.

    Returns:
        The threshold (one of the scores).

    Raises:
        ConfigError: One line when there is no anomalous sample.
    """
    check_pair(scores, labels, ("validation scores", "validation labels"), None)
    values = scores.detach().reshape(-1).cpu().numpy()
    positive = labels.detach().reshape(-1).cpu().numpy().astype(bool)
    if not positive.any():
        raise ConfigError(
            "threshold=f1 needs at least one defective image in the validation part; raise "
            "threshold.validation_split or use threshold=conformal"
        )
    pos_desc = np.sort(values[positive])[::-1]
    curve = curve_from_scores(np.sort(values[~positive]), pos_desc)
    f1 = 2.0 * curve.pos_count / (curve.pos_count + curve.neg_ge + curve.n_pos)
    best = int(np.argmax(f1))  # the first maximum is the highest threshold
    return float(pos_desc[curve.pos_count[best] - 1])


def rates_at(scores: Tensor, labels: Tensor, threshold: float) -> Rates:
    """FPR and TPR realised at ``threshold`` (score >= threshold is anomalous).

    Args:
        scores: Anomaly scores (image scores, or maps for pixel rates), float.
        labels: 1 = anomalous, 0 = normal (labels or masks), same shape.
        threshold: The decision threshold.

    Returns:
        The rates; FPR is NaN without normal samples, TPR NaN without anomalous ones.
    """
    check_pair(scores, labels, ("scores", "labels"), None)
    flagged = scores.detach() >= threshold
    positive = labels.detach().bool()
    n_pos = int(positive.sum())
    n_neg = positive.numel() - n_pos
    false_alarms = int((flagged & ~positive).sum())
    hits = int((flagged & positive).sum())
    return Rates(
        fpr=false_alarms / n_neg if n_neg else math.nan,
        tpr=hits / n_pos if n_pos else math.nan,
    )


def pixel_counts(maps: Tensor, masks: Tensor, threshold: float) -> Tensor:
    """Per image the pixel counts (false alarms, hits, normal pixels, anomalous pixels) at ``threshold``.

    Args:
        maps: (B, H, W) anomaly maps.
        masks: (B, H, W) ground truth in {0, 1}.
        threshold: The pixel threshold (map >= threshold is anomalous).

    Returns:
        (B, 4) int64 counts, summed over images by :func:`rates_from_counts`.
    """
    flagged = (maps.detach() >= threshold).flatten(1)
    positive = masks.detach().bool().flatten(1)
    return torch.stack(
        [(flagged & ~positive).sum(1), (flagged & positive).sum(1), (~positive).sum(1), positive.sum(1)],
        dim=1,
    ).to(torch.int64)


def rates_from_counts(counts: Tensor) -> Rates:
    """FPR and TPR from summed rows of :func:`pixel_counts` (NaN where a class is absent)."""
    false_alarms, hits, n_neg, n_pos = (int(v) for v in counts.reshape(-1, 4).sum(0))
    return Rates(
        fpr=false_alarms / n_neg if n_neg else math.nan,
        tpr=hits / n_pos if n_pos else math.nan,
    )


def decision_metrics(
    scores: Tensor,
    labels: Tensor,
    image_threshold: float,
    pixel_threshold: float | None,
    counts: Tensor | None,
) -> dict[str, float]:
    """The :data:`THRESHOLD_KEYS` of a category: thresholds and the rates they realise on its test set.

    Args:
        scores: Image scores of the test images.
        labels: Their labels (1 = anomalous).
        image_threshold: The image threshold.
        pixel_threshold: The pixel threshold (None: no pixel keys).
        counts: Rows of :func:`pixel_counts` of every test image at ``pixel_threshold`` (None: no pixel keys).
    """
    image = rates_at(scores, labels, image_threshold)
    out = {"image_threshold": float(image_threshold), "image_fpr": image.fpr, "image_tpr": image.tpr}
    if pixel_threshold is not None and counts is not None:
        pixel = rates_from_counts(counts)
        out |= {"pixel_threshold": float(pixel_threshold), "pixel_fpr": pixel.fpr, "pixel_tpr": pixel.tpr}
    return out


def outline_threshold(thresholds: Mapping[str, Any] | None, given: float | None) -> float:
    """The pixel threshold that overlays outline: ``predict.threshold`` if given, else the category's, else 0.5."""
    if given is not None:
        return float(given)
    if thresholds and thresholds.get("pixel") is not None:
        return float(thresholds["pixel"])
    return 0.5
