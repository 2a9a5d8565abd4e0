"""AUROC / AP / F1-max equal sklearn on ties and on scores outside [0, 1]."""

import math

import numpy as np
import pytest
import torch
from metrics_oracles import sk_f1max
from sklearn.metrics import average_precision_score, roc_auc_score

from winclip_lit.metrics import AUROC, AnomalyMetrics, AveragePrecision, F1Max

TOL = 1e-6


def _data(seed: int, kind: str, n: int = 600) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = (rng.random(n) < 0.3).astype(np.int64)
    if kind == "ties":
        scores = np.round(rng.random(n) * 0.8 + 0.2 * labels, 2)
    else:  # outside [0, 1]: negative and > 1 values, with ties too
        scores = np.round(rng.normal(size=n) * 3 + 1.5 * labels - 1, 1)
    return scores.astype(np.float32), labels


def _reference(scores: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    return {
        "auroc": roc_auc_score(labels, scores),
        "ap": average_precision_score(labels, scores),
        "f1max": sk_f1max(labels, scores),
    }


@pytest.mark.parametrize("kind", ["ties", "outside"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_metric_classes_equal_sklearn(seed: int, kind: str) -> None:
    scores, labels = _data(seed, kind)
    ref = _reference(scores, labels)
    for name, metric in {"auroc": AUROC(), "ap": AveragePrecision(), "f1max": F1Max()}.items():
        for part in np.array_split(np.arange(len(scores)), [50, 51, 400]):
            metric.update(torch.from_numpy(scores[part]), torch.from_numpy(labels[part]))
        assert metric.compute().item() == pytest.approx(ref[name], abs=TOL)


@pytest.mark.parametrize("kind", ["ties", "outside"])
def test_anomaly_metrics_image_and_pixel_equal_sklearn(kind: str) -> None:
    scores, labels = _data(3, kind, n=8 * 5 * 6)
    metrics = AnomalyMetrics()
    maps, masks = scores.reshape(8, 5, 6), labels.reshape(8, 5, 6)
    image_scores, image_labels = maps[:, 0, 0], masks[:, 0, 0]
    image_labels[:2] = [0, 1]
    metrics.update(*map(torch.from_numpy, (image_scores, image_labels, maps, masks)))
    out = metrics.compute()
    for level, (s, y) in {
        "image": (image_scores, image_labels),
        "pixel": (maps.ravel(), masks.ravel()),
    }.items():
        for name, value in _reference(s, y).items():
            assert out[f"{level}_{name}"] == pytest.approx(value, abs=TOL)


def test_scores_are_never_squashed() -> None:
    scores, labels = _data(4, "outside")
    shifted = scores + 10.0  # all > 1: a sigmoid or min-max rescale would change ties and AP
    for metric, ref in ((AUROC(), roc_auc_score), (AveragePrecision(), average_precision_score)):
        metric.update(torch.from_numpy(shifted), torch.from_numpy(labels))
        assert metric.compute().item() == pytest.approx(ref(labels, shifted), abs=TOL)


def test_float64_image_scores_keep_their_order() -> None:
    metrics = AnomalyMetrics(pixel=False)
    metrics.update(torch.tensor([0.5, 0.5 + 1e-12], dtype=torch.float64), torch.tensor([0, 1]))
    assert metrics.compute()["image_auroc"] == 1.0


def test_single_class_is_nan_with_warning() -> None:
    metrics = AnomalyMetrics(pixel=False)
    metrics.update(torch.tensor([0.1, 0.7, 0.3]), torch.tensor([0, 0, 0]))
    with pytest.warns(UserWarning, match="undefined"):
        out = metrics.compute()
    assert all(math.isnan(v) for v in out.values())


def test_only_positives_gives_nan_auroc_and_perfect_ap() -> None:
    metrics = AnomalyMetrics(pixel=False)
    metrics.update(torch.tensor([0.1, 0.7, 0.3]), torch.tensor([1, 1, 1]))
    with pytest.warns(UserWarning, match="AUROC is undefined"):
        out = metrics.compute()
    assert math.isnan(out["image_auroc"])
    assert out["image_ap"] == 1.0 == out["image_f1max"]
