"""AnomalyMetrics.compute_subset: the metrics of a subset of samples (one anomaly type with the normal
images) against sklearn on that subset; padded DDP repeats still counted once; curves() untouched."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.metrics import average_precision_score, roc_auc_score

from winclip_lit.metrics import AnomalyMetrics
from winclip_lit.metrics.defect_types import defect_type_samples


def test_subset_matches_sklearn_on_the_subset() -> None:
    rng = np.random.default_rng(0)
    n = 12
    scores = rng.random(n)
    labels = np.array([0] * 6 + [1] * 6)
    maps = rng.random((n, 8, 8)).astype(np.float32)
    masks = np.zeros((n, 8, 8), np.uint8)
    masks[6:, 2:5, 2:5] = 1
    metrics = AnomalyMetrics()
    ids = torch.arange(n)
    # the last batch repeats sample 0 as DDP padding would: it must be counted once
    for rows in (slice(0, 7), slice(7, 12)):
        metrics.update(
            torch.tensor(scores[rows]), torch.tensor(labels[rows]), torch.tensor(maps[rows]),
            torch.tensor(masks[rows]), ids[rows],
        )  # fmt: skip
    metrics.update(torch.tensor(scores[:1]), torch.tensor(labels[:1]), torch.tensor(maps[:1]),
                   torch.tensor(masks[:1]), ids[:1])  # fmt: skip
    full = metrics.compute()
    subset = [0, 1, 2, 3, 4, 5, 9, 10]
    got = metrics.compute_subset(subset)
    assert got["image_auroc"] == pytest.approx(roc_auc_score(labels[subset], scores[subset]))
    assert got["image_ap"] == pytest.approx(average_precision_score(labels[subset], scores[subset]))
    assert got["pixel_auroc"] == pytest.approx(roc_auc_score(masks[subset].ravel(), maps[subset].ravel()))
    assert full["image_auroc"] == pytest.approx(roc_auc_score(labels, scores))
    assert metrics.curves()["image_roc"].area == pytest.approx(full["image_auroc"])


def test_defect_type_samples_hand_worked() -> None:
    defects = {0: "good", 1: "logical", 2: "structural", 3: "good", 4: "logical"}
    assert defect_type_samples(defects, ["logical", "structural"]) == {
        "logical": [0, 1, 3, 4],
        "structural": [0, 2, 3],
    }
    assert defect_type_samples(defects, []) == {}


def test_subset_needs_sample_ids() -> None:
    metrics = AnomalyMetrics(pixel=False)
    metrics.update(torch.tensor([0.1, 0.9]), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="needs sample_ids"):
        metrics.compute_subset([0])
