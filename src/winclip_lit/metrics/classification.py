"""Exact (sklearn-identical) or binned AUROC, average precision and F1-max as torchmetrics.

Scores are ranked as given: never passed through a sigmoid nor rescaled (binned mode clamps
to [0, 1]).
"""

from __future__ import annotations

from winclip_lit.metrics.base import CurveMetric
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
