"""TPR at FPR <= r, TNR at FNR <= r and mad: sklearn's ROC, naive loops and hand-worked cases with ties."""

import math

import numpy as np
import pytest
import torch
from metrics_data import blob_data
from metrics_oracles import oracle_aupro, sk_f1max
from sklearn.metrics import average_precision_score, roc_auc_score, roc_curve

from winclip_lit.metrics import HEADLINE_KEYS, OPERATOR_KEYS, AnomalyMetrics, TNRAtFNR, TPRAtFPR

LIMITS = {"image_tpr_fpr1": 0.01, "image_tpr_fpr5": 0.05, "image_tnr_fnr1": 0.01, "image_tnr_fnr5": 0.05}


def image_metrics(scores: np.ndarray, labels: np.ndarray, mode: str = "exact") -> dict[str, float]:
    metrics = AnomalyMetrics(mode=mode, pixel=False)
    metrics.update(torch.from_numpy(scores), torch.from_numpy(labels))
    return metrics.compute()


def sklearn_points(scores: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """Best TPR with FPR <= r and best TNR with FNR <= r over sklearn's full ROC (every threshold)."""
    fpr, tpr, _ = roc_curve(labels, scores, drop_intermediate=False)
    n_neg, n_pos = int((labels == 0).sum()), int(labels.sum())
    fp, tp = np.rint(fpr * n_neg), np.rint(tpr * n_pos)  # counts: the limit is compared without rounding
    out = {}
    for key, r in LIMITS.items():
        if "tpr" in key:
            out[key] = tp[fp <= math.floor(r * n_neg + 1e-9)].max() / n_pos
        else:
            out[key] = (n_neg - fp[n_pos - tp <= math.floor(r * n_pos + 1e-9)]).max() / n_neg
    return out


def naive_points(scores: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """The same by a loop over every distinct score and 'above all scores' (score >= t is anomalous)."""
    neg, pos = scores[labels == 0], scores[labels == 1]
    best = dict.fromkeys(LIMITS, 0.0)
    for t in [*np.unique(scores), np.inf]:
        fpr, tpr = np.mean(neg >= t), np.mean(pos >= t)
        for key, r in LIMITS.items():
            if "tpr" in key and fpr <= r + 1e-12:
                best[key] = max(best[key], tpr)
            if "tnr" in key and 1 - tpr <= r + 1e-12:
                best[key] = max(best[key], 1 - fpr)
    return best


@pytest.mark.parametrize("seed", range(6))
def test_operating_points_equal_sklearn_and_a_naive_loop(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_neg, n_pos = int(rng.integers(60, 400)), int(rng.integers(20, 300))
    decimals = [None, 2, 1][seed % 3]  # 1 and 2 decimals: many ties between and within the classes
    scores = np.concatenate([rng.normal(0, 1, n_neg), rng.normal(1.5, 1, n_pos)])
    if decimals is not None:
        scores = np.round(scores, decimals)
    labels = np.r_[np.zeros(n_neg, np.int64), np.ones(n_pos, np.int64)]
    got = image_metrics(scores, labels)
    assert {k: got[k] for k in OPERATOR_KEYS} == pytest.approx(sklearn_points(scores, labels), abs=1e-12)
    assert {k: got[k] for k in OPERATOR_KEYS} == pytest.approx(naive_points(scores, labels), abs=1e-12)


def test_tpr_at_fpr_by_hand_with_ties_at_the_limit() -> None:
    negatives = np.arange(100) / 100  # 0.00 ... 0.99
    positives = np.array([1.0, 0.99, 0.985, 0.2])  # 0.99 ties with the top negative
    scores = np.r_[negatives, positives]
    labels = np.r_[np.zeros(100, np.int64), np.ones(4, np.int64)]
    got = image_metrics(scores, labels)
    # Threshold 0.985: 3 positives and one negative (0.99) flagged: FPR = 1/100 <= 1 % counts.
    assert got["image_tpr_fpr1"] == 0.75
    # FPR <= 5 % allows 0.95 (5 negatives), no further positive: still 3 of 4.
    assert got["image_tpr_fpr5"] == 0.75
    # 99 negatives: 1 % of 99 allows no false alarm, and the tie at 0.99 cannot be split: only 1.0.
    got = image_metrics(np.r_[negatives[1:], positives], np.r_[np.zeros(99, np.int64), np.ones(4, np.int64)])
    assert got["image_tpr_fpr1"] == 0.25
    # No positive above every negative and no false alarm allowed: only "nothing flagged", TPR 0.
    got = image_metrics(np.r_[negatives[1:], 0.5], np.r_[np.zeros(99, np.int64), 1])
    assert got["image_tpr_fpr1"] == 0.0


def test_tnr_at_fnr_by_hand_with_ties_at_the_limit() -> None:
    positives = np.arange(1, 101) / 100  # 0.01 ... 1.00
    negatives = np.array([0.0, 0.01, 0.015, 0.02, 0.5])  # 0.01 and 0.02 tie with positives
    scores = np.r_[positives, negatives]
    labels = np.r_[np.ones(100, np.int64), np.zeros(5, np.int64)]
    got = image_metrics(scores, labels)
    # FNR <= 1 %: one positive may pass (0.01), threshold 0.02, which flags the tied 0.02 and 0.5.
    assert got["image_tnr_fnr1"] == 3 / 5
    # FNR <= 5 %: five may pass (0.01 ... 0.05), threshold 0.06 flags only 0.5.
    assert got["image_tnr_fnr5"] == 4 / 5


def test_binned_operating_points_are_exact_on_quantised_scores() -> None:
    rng = np.random.default_rng(5)
    scores = rng.uniform(0, 1, 300).astype(np.float32)
    labels = (rng.uniform(0, 1, 300) < scores).astype(np.int64)
    binned = image_metrics(scores, labels, mode="binned")
    quantised = np.floor(scores * np.float32(999)).astype(np.float64)
    expected = naive_points(quantised, labels)
    assert {k: binned[k] for k in OPERATOR_KEYS} == pytest.approx(expected, abs=1e-12)


def test_undefined_without_both_classes_is_nan_with_a_warning() -> None:
    with pytest.warns(UserWarning, match="TPR at FPR is undefined"):
        got = image_metrics(np.array([0.1, 0.7]), np.array([1, 1]))
    assert all(math.isnan(got[k]) for k in OPERATOR_KEYS)


def test_standalone_metrics_and_their_input_checks() -> None:
    scores = torch.tensor([0.1, 0.2, 0.3, 0.9, 0.35, 0.8])
    labels = torch.tensor([0, 0, 0, 0, 1, 1])
    tpr, tnr = TPRAtFPR(max_fpr=0.25), TNRAtFNR(max_fnr=0.5)
    tpr.update(scores, labels)
    tnr.update(scores, labels)
    assert tpr.compute().item() == 1.0  # threshold 0.35: FPR 1/4, both positives
    assert tnr.compute().item() == 0.75  # threshold 0.8: one positive missed, 0.9 flagged
    with pytest.raises(ValueError, match="max_fpr must be a rate in \\[0, 1\\], got 5"):
        TPRAtFPR(max_fpr=5)


def test_mad_is_the_mean_of_the_seven_headline_metrics() -> None:
    maps, masks = blob_data(np.random.default_rng(8), n=12, size=32, decimals=2)
    scores, labels = maps.max(axis=(1, 2)).astype(np.float64), masks.max(axis=(1, 2))
    metrics = AnomalyMetrics()
    metrics.update(*map(torch.from_numpy, (scores, labels, maps, masks)))
    got = metrics.compute()
    independent = [
        roc_auc_score(labels, scores),
        average_precision_score(labels, scores),
        sk_f1max(labels, scores),
        roc_auc_score(masks.ravel(), maps.ravel()),
        average_precision_score(masks.ravel(), maps.ravel()),
        sk_f1max(masks.ravel(), maps.ravel()),
        oracle_aupro(maps, masks),
    ]
    assert [got[k] for k in HEADLINE_KEYS] == pytest.approx(independent, abs=1e-6)
    assert got["mad"] == pytest.approx(sum(independent) / 7, abs=1e-6)
    assert list(got)[-1] == "mad"


def test_mad_is_nan_when_a_headline_metric_is() -> None:
    maps = torch.rand(3, 8, 8)
    masks = torch.zeros(3, 8, 8, dtype=torch.uint8)  # no anomalous pixel: the pixel metrics are NaN
    metrics = AnomalyMetrics()
    metrics.update(maps.amax(dim=(1, 2)), torch.tensor([0, 1, 1]), maps, masks)
    with pytest.warns(UserWarning, match="undefined"):
        got = metrics.compute()
    assert math.isnan(got["pixel_aupro"]) and math.isnan(got["mad"])
    assert not math.isnan(got["image_auroc"])
