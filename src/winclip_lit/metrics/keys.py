"""The names of the metrics a run reports, in table order (no torch: the report and ledger read them)."""

from __future__ import annotations

OPERATING_POINTS = {
    "image_tpr_fpr1": ("tpr", 0.01),
    "image_tpr_fpr5": ("tpr", 0.05),
    "image_tnr_fnr1": ("tnr", 0.01),
    "image_tnr_fnr5": ("tnr", 0.05),
}
"""Result key -> (which rate is maximised, the limit on the other one), all on the image scores."""

HEADLINE_KEYS = (
    "image_auroc",
    "image_ap",
    "image_f1max",
    "pixel_auroc",
    "pixel_ap",
    "pixel_f1max",
    "pixel_aupro",
)
"""The seven headline metrics of the anomaly detection literature (and of ADer's ranking)."""

OPERATOR_KEYS = tuple(OPERATING_POINTS)
"""Threshold-free operating points on the image scores: TPR at FPR <= 1 %, 5 %; TNR at FNR <= 1 %, 5 %."""

MAD_KEY = "mad"
"""ADer's mAD: the mean of the seven :data:`HEADLINE_KEYS` (only with the pixel metrics)."""

METRIC_KEYS = (*HEADLINE_KEYS, *OPERATOR_KEYS, MAD_KEY)
"""Every key :meth:`AnomalyMetrics.compute` returns, in table order."""
