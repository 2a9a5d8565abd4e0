"""Evaluation metrics: exact (sklearn / MVTec AD identical) or binned, as torchmetrics.

See docs/metrics.md for the definitions, modes, memory figures and DDP behaviour.
"""

from winclip_lit.metrics.aupro import AUPRO
from winclip_lit.metrics.classification import AUROC, AveragePrecision, F1Max
from winclip_lit.metrics.collection import METRIC_KEYS, AnomalyMetrics, make_metric_collections
from winclip_lit.metrics.curves import CURVE_KEYS, CURVE_TITLES, Curve

__all__ = [
    "AUPRO",
    "AUROC",
    "CURVE_KEYS",
    "CURVE_TITLES",
    "Curve",
    "METRIC_KEYS",
    "AnomalyMetrics",
    "AveragePrecision",
    "F1Max",
    "make_metric_collections",
]
