"""Evaluation metrics: exact (sklearn / MVTec AD identical) or binned, as torchmetrics.

See docs/metrics.md for the definitions, modes, memory figures and DDP behaviour. Names load lazily, so
``winclip_lit.metrics.keys`` (the metric names, for reports and the ledger) imports no torch.
"""

from __future__ import annotations

from winclip_lit.lazy import lazy_exports

_EXPORTS = {
    "AUPRO": "winclip_lit.metrics.aupro",
    "AUROC": "winclip_lit.metrics.classification",
    "AveragePrecision": "winclip_lit.metrics.classification",
    "F1Max": "winclip_lit.metrics.classification",
    "TNRAtFNR": "winclip_lit.metrics.classification",
    "TPRAtFPR": "winclip_lit.metrics.classification",
    "DEFAULT_MAX_EXACT_GB": "winclip_lit.metrics.collection",
    "EXACT_BYTES_PER_PIXEL": "winclip_lit.metrics.collection",
    "AnomalyMetrics": "winclip_lit.metrics.collection",
    "BinnedFallbackWarning": "winclip_lit.metrics.collection",
    "make_metric_collections": "winclip_lit.metrics.collection",
    "HEADLINE_KEYS": "winclip_lit.metrics.keys",
    "MAD_KEY": "winclip_lit.metrics.keys",
    "METRIC_KEYS": "winclip_lit.metrics.keys",
    "OPERATOR_KEYS": "winclip_lit.metrics.keys",
    "CURVE_KEYS": "winclip_lit.metrics.curves",
    "CURVE_TITLES": "winclip_lit.metrics.curves",
    "Curve": "winclip_lit.metrics.curves",
    "Rates": "winclip_lit.metrics.thresholds",
    "conformal_threshold": "winclip_lit.metrics.thresholds",
    "f1_threshold": "winclip_lit.metrics.thresholds",
    "rates_at": "winclip_lit.metrics.thresholds",
}

__getattr__, __dir__, __all__ = lazy_exports(__name__, _EXPORTS)
