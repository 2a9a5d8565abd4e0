"""Threshold-free operating points read off the exact ROC: TPR at FPR <= r and TNR at FNR <= r.

These are the "good/bad pass" points of Baitieva et al. (arXiv 2503.23451; anomalib's PBn/PGn):
how many defective images are caught while at most r of the normal ones are flagged, and how many
normal images pass while at most r of the defective ones slip through. Every distinct score is a
threshold (score >= threshold is anomalous; ties are one threshold), plus the threshold above every
score (nothing flagged). The rate limit is compared exactly in integers: FPR <= r means
``false positives <= floor(r x negatives)``, with r read as the decimal it is written as (0.01 = 1/100).
"""

from __future__ import annotations

from fractions import Fraction

from winclip_lit.metrics.keys import OPERATING_POINTS
from winclip_lit.metrics.ranking import RankCurve, undefined


def allowed_errors(total: int, rate: float) -> int:
    """The most errors out of ``total`` whose share stays <= ``rate``: floor(rate x total), exactly.

    Examples:
        >>> allowed_errors(100, 0.01), allowed_errors(99, 0.01), allowed_errors(300, 0.01)
        (1, 0, 3)
    """
    limit = Fraction(repr(float(rate)))
    return int(limit.numerator * total // limit.denominator)


def tpr_at_fpr(curve: RankCurve, max_fpr: float) -> float:
    """The largest TPR over all ROC points whose FPR is <= ``max_fpr``.

    Between two distinct positive scores the TPR is constant and the FPR only grows as the threshold
    falls, so the best point sits at a positive score (or at "nothing flagged", TPR 0). NaN with a
    warning without positives or negatives.
    """
    if curve.n_pos == 0 or curve.n_neg == 0:
        return undefined("TPR at FPR", "needs both positive and negative samples")
    feasible = curve.neg_ge <= allowed_errors(curve.n_neg, max_fpr)
    if not feasible.any():
        return 0.0
    return float(curve.pos_count[feasible].max() / curve.n_pos)


def tnr_at_fnr(curve: RankCurve, max_fnr: float) -> float:
    """The largest TNR over all ROC points whose FNR is <= ``max_fnr``.

    The lowest positive score always qualifies (FNR 0); a threshold between two positive scores
    misses as many positives as the next positive score below it but flags more negatives, so the
    best point sits at a positive score. NaN with a warning without positives or negatives.
    """
    if curve.n_pos == 0 or curve.n_neg == 0:
        return undefined("TNR at FNR", "needs both positive and negative samples")
    feasible = curve.n_pos - curve.pos_count <= allowed_errors(curve.n_pos, max_fnr)
    return float((curve.n_neg - curve.neg_ge[feasible].min()) / curve.n_neg)


def operating_points(curve: RankCurve) -> dict[str, float]:
    """The values of :data:`OPERATING_POINTS` on one (image) curve."""
    read = {"tpr": tpr_at_fpr, "tnr": tnr_at_fnr}
    return {key: read[kind](curve, limit) for key, (kind, limit) in OPERATING_POINTS.items()}
