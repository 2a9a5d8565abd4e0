"""Evaluation metrics: exact (sklearn / MVTec AD identical) or binned, as torchmetrics.

See docs/metrics.md for the definitions, modes, memory figures and DDP behaviour.
"""

from winclip_lit.metrics.aupro import AUPRO
from winclip_lit.metrics.classification import AUROC, AveragePrecision, F1Max, TNRAtFNR, TPRAtFPR
from winclip_lit.metrics.collection import (
    DEFAULT_MAX_EXACT_GB,
    EXACT_BYTES_PER_PIXEL,
    HEADLINE_KEYS,
    MAD_KEY,
    METRIC_KEYS,
    OPERATOR_KEYS,
    AnomalyMetrics,
    BinnedFallbackWarning,
    make_metric_collections,
)
from winclip_lit.metrics.curves import CURVE_KEYS, CURVE_TITLES, Curve
from winclip_lit.metrics.thresholds import Rates, conformal_threshold, f1_threshold, rates_at

__all__ = [
    "AUPRO",
    "AUROC",
    "DEFAULT_MAX_EXACT_GB",
    "EXACT_BYTES_PER_PIXEL",
    "CURVE_KEYS",
    "CURVE_TITLES",
    "Curve",
    "METRIC_KEYS",
    "AnomalyMetrics",
    "AveragePrecision",
    "BinnedFallbackWarning",
    "F1Max",
    "HEADLINE_KEYS",
    "MAD_KEY",
    "OPERATOR_KEYS",
    "TNRAtFNR",
    "TPRAtFPR",
    "Rates",
    "conformal_threshold",
    "f1_threshold",
    "make_metric_collections",
    "rates_at",
]
