"""The rates a threshold realises in evaluate (image and pixel), against sklearn's confusion matrix."""

from __future__ import annotations

import math

import numpy as np
import torch
from sklearn.metrics import confusion_matrix

from winclip_lit.metrics.thresholds import decision_metrics, pixel_counts, rates_from_counts


def _sklearn_rates(scores: np.ndarray, labels: np.ndarray, threshold: float) -> tuple[float, float]:
    tn, fp, fn, tp = confusion_matrix(
        labels.ravel(), (scores.ravel() >= threshold).astype(int), labels=[0, 1]
    ).ravel()
    return fp / (fp + tn), tp / (tp + fn)


def test_pixel_rates_from_per_image_counts_equal_sklearn() -> None:
    rng = np.random.default_rng(0)
    maps = rng.random((6, 9, 7)).astype(np.float32)
    masks = (rng.random((6, 9, 7)) < 0.2).astype(np.uint8)
    threshold = float(maps.ravel()[17])  # a threshold equal to one pixel's score: ">=" counts it
    counts = pixel_counts(torch.from_numpy(maps), torch.from_numpy(masks), threshold)
    assert counts.shape == (6, 4)
    rates = rates_from_counts(counts)
    expected = _sklearn_rates(maps, masks, threshold)
    assert math.isclose(rates.fpr, expected[0]) and math.isclose(rates.tpr, expected[1])
    # summing per-image rows equals counting all pixels at once (the DDP gather adds rows)
    split = rates_from_counts(torch.cat([counts[:2], counts[2:]]))
    assert split == rates


def test_decision_metrics_equal_sklearn_and_leave_pixel_keys_out_without_pixels() -> None:
    rng = np.random.default_rng(1)
    scores = rng.random(40)
    labels = (rng.random(40) < 0.3).astype(np.uint8)
    maps = rng.random((40, 5, 5)).astype(np.float32)
    masks = (rng.random((40, 5, 5)) < 0.1).astype(np.uint8)
    counts = pixel_counts(torch.from_numpy(maps), torch.from_numpy(masks), 0.8)
    out = decision_metrics(torch.from_numpy(scores), torch.from_numpy(labels), 0.6, 0.8, counts)
    fpr, tpr = _sklearn_rates(scores, labels, 0.6)
    pixel_fpr, pixel_tpr = _sklearn_rates(maps, masks, 0.8)
    assert out["image_threshold"] == 0.6 and out["pixel_threshold"] == 0.8
    assert math.isclose(out["image_fpr"], fpr) and math.isclose(out["image_tpr"], tpr)
    assert math.isclose(out["pixel_fpr"], pixel_fpr) and math.isclose(out["pixel_tpr"], pixel_tpr)
    image_only = decision_metrics(torch.from_numpy(scores), torch.from_numpy(labels), 0.6, None, None)
    assert set(image_only) == {"image_threshold", "image_fpr", "image_tpr"}
