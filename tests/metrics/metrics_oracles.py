"""Independent reference implementations (sklearn / skimage) for the metric tests."""

from __future__ import annotations

import numpy as np
from skimage.measure import label
from sklearn.metrics import precision_recall_curve, roc_curve


def sk_f1max(labels: np.ndarray, scores: np.ndarray) -> float:
    """Max of 2PR/(P+R) over sklearn's precision-recall curve (0 where P+R=0)."""
    precision, recall, _ = precision_recall_curve(labels, scores)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(denom), where=denom > 0)
    return float(f1.max())


def mvtec_trapezoid(x: np.ndarray, y: np.ndarray, x_max: float) -> float:
    """The trapezoid of the MVTec AD evaluation code (generic_util.trapezoid)."""
    correction = 0.0
    if x_max not in x:
        ins = int(np.searchsorted(x, x_max, side="right"))
        y_interp = y[ins - 1] + (y[ins] - y[ins - 1]) * (x_max - x[ins - 1]) / (x[ins] - x[ins - 1])
        correction = 0.5 * (y_interp + y[ins - 1]) * (x_max - x[ins - 1])
    keep = x <= x_max
    x, y = x[keep], y[keep]
    return float(np.sum(0.5 * (y[1:] + y[:-1]) * (x[1:] - x[:-1])) + correction)


def oracle_aupro(maps: np.ndarray, masks: np.ndarray, fpr_limit: float = 0.3) -> float:
    """AUPRO via skimage labelling and sklearn's weighted ROC curve (TPR with 1/area weights = mean PRO)."""
    weights = np.ones(masks.shape, dtype=np.float64)
    for i, mask in enumerate(masks):
        regions = label(mask.astype(bool), connectivity=2)
        areas = np.bincount(regions.ravel())
        weights[i][regions > 0] = 1.0 / areas[regions[regions > 0]]
    fpr, tpr, _ = roc_curve(
        masks.ravel().astype(int), maps.ravel(), sample_weight=weights.ravel(), drop_intermediate=False
    )
    return mvtec_trapezoid(fpr, tpr, fpr_limit) / fpr_limit
