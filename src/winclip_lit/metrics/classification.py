"""Exact (sklearn-identical) or binned AUROC, average precision, F1-max and ROC operating points as
torchmetrics.

Scores are ranked as given: never passed through a sigmoid nor rescaled (binned mode clamps
to [0, 1]).
"""

from __future__ import annotations

from typing import Any

from winclip_lit.metrics.base import CurveMetric
from winclip_lit.metrics.operating_points import tnr_at_fnr, tpr_at_fpr
from winclip_lit.metrics.ranking import RankCurve, auroc, average_precision, f1_max


class AUROC(CurveMetric):
    """Area under the ROC curve; exact mode equals ``sklearn.metrics.roc_auc_score``."""

    def value(self, curve: RankCurve, n_regions: int) -> float:
        """Reads the ROC area off the curve."""
        return auroc(curve)


class AveragePrecision(CurveMetric):
    """Average precision; exact mode equals ``sklearn.metrics.average_precision_score``."""

    def value(self, curve: RankCurve, n_regions: int) -> float:
        """Reads the average precision off the curve."""
        return average_precision(curve)


class F1Max(CurveMetric):
    """Maximum F1 over all thresholds of the precision-recall curve."""

    def value(self, curve: RankCurve, n_regions: int) -> float:
        """Reads the best F1 off the curve."""
        return f1_max(curve)


class TPRAtFPR(CurveMetric):
    """The largest TPR over the ROC points with FPR <= ``max_fpr`` (see ``operating_points``).

    Args:
        max_fpr: The limit on the false positive rate, in [0, 1].
        **kwargs: Passed to :class:`CurveMetric` (``mode``, ``num_thresholds``, ...).
    """

    def __init__(self, max_fpr: float = 0.01, **kwargs: Any) -> None:
        _check_rate("max_fpr", max_fpr)
        super().__init__(**kwargs)
        self.max_fpr = max_fpr

    def value(self, curve: RankCurve, n_regions: int) -> float:
        """Reads the best TPR within the FPR limit off the curve."""
        return tpr_at_fpr(curve, self.max_fpr)


class TNRAtFNR(CurveMetric):
    """The largest TNR over the ROC points with FNR <= ``max_fnr`` (see ``operating_points``).

    Args:
        max_fnr: The limit on the false negative rate, in [0, 1].
        **kwargs: Passed to :class:`CurveMetric` (``mode``, ``num_thresholds``, ...).
    """

    def __init__(self, max_fnr: float = 0.01, **kwargs: Any) -> None:
        _check_rate("max_fnr", max_fnr)
        super().__init__(**kwargs)
        self.max_fnr = max_fnr

    def value(self, curve: RankCurve, n_regions: int) -> float:
        """Reads the best TNR within the FNR limit off the curve."""
        return tnr_at_fnr(curve, self.max_fnr)


def _check_rate(name: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be a rate in [0, 1], got {value!r}")
