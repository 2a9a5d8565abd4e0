"""Curves of AnomalyMetrics: areas equal the reported metrics, points lie on sklearn's curves,
downsampling keeps the shape and the end points."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from metrics_data import blob_data
from skimage.measure import label
from sklearn.metrics import precision_recall_curve, roc_curve

from winclip_lit.metrics import AnomalyMetrics
from winclip_lit.metrics.binned import bin_index
from winclip_lit.metrics.curves import CURVE_KEYS, Curve

T = 1000


def _metrics(maps: np.ndarray, masks: np.ndarray, mode: str = "exact") -> AnomalyMetrics:
    metrics = AnomalyMetrics(mode=mode, num_thresholds=T)
    for i in range(0, len(maps), 3):
        m, y = torch.from_numpy(maps[i : i + 3]), torch.from_numpy(masks[i : i + 3])
        metrics.update(m.amax(dim=(1, 2)), y.amax(dim=(1, 2)), m, y)
    return metrics


def _on_polyline(points: np.ndarray, curve: Curve) -> np.ndarray:
    """Distance of each (x, y) point to the polyline of ``curve``."""
    a = np.stack([curve.x[:-1], curve.y[:-1]], axis=1)[None]  # (1, S, 2)
    d = np.stack([np.diff(curve.x), np.diff(curve.y)], axis=1)[None]
    p = points[:, None, :]
    t = np.clip(np.sum((p - a) * d, axis=2) / np.maximum(np.sum(d * d, axis=2), 1e-300), 0.0, 1.0)
    return np.min(np.linalg.norm(p - (a + t[..., None] * d), axis=2), axis=1)


def _is_vertex(points: np.ndarray, curve: Curve) -> np.ndarray:
    vertices = np.stack([curve.x, curve.y], axis=1)
    return np.min(np.max(np.abs(points[:, None, :] - vertices[None]), axis=2), axis=1) < 1e-12


def _pro_oracle(maps: np.ndarray, masks: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """FPR, mean PRO and thresholds from skimage regions + sklearn's 1/area-weighted ROC."""
    weights = np.ones(masks.shape, dtype=np.float64)
    for i, mask in enumerate(masks):
        regions = label(mask.astype(bool), connectivity=2)
        areas = np.bincount(regions.ravel())
        weights[i][regions > 0] = 1.0 / areas[regions[regions > 0]]
    return roc_curve(masks.ravel(), maps.ravel(), sample_weight=weights.ravel(), drop_intermediate=False)


@pytest.fixture(scope="module")
def blobs() -> tuple[np.ndarray, np.ndarray]:
    return blob_data(np.random.default_rng(5), n=9, size=24)


@pytest.mark.parametrize("decimals", [None, 2])
@pytest.mark.parametrize("mode", ["exact", "binned"])
def test_curve_areas_equal_the_reported_metrics(mode: str, decimals: int | None) -> None:
    maps, masks = blob_data(np.random.default_rng(7), n=9, size=24, decimals=decimals)
    metrics = _metrics(maps, masks, mode)
    values = metrics.compute()
    curves = metrics.curves(max_points=None)
    assert tuple(curves) == CURVE_KEYS
    for key, curve in curves.items():
        extent = 0.3 if key == "pixel_pro" else 1.0
        assert curve.x[0] == 0.0 and curve.x[-1] == pytest.approx(extent, abs=1e-15), key
        assert np.all(np.diff(curve.x) >= 0), key
        assert curve.area == pytest.approx(values[curve.metric], abs=1e-12), key
        assert np.trapezoid(curve.y, curve.x) / extent == pytest.approx(values[curve.metric], abs=1e-12), key


@pytest.mark.parametrize("mode", ["exact", "binned"])
def test_curve_points_lie_on_sklearn_curves(blobs: tuple[np.ndarray, np.ndarray], mode: str) -> None:
    maps, masks = blobs
    metrics = _metrics(maps, masks, mode)
    curves = metrics.curves(max_points=None)
    # Binned curves are the exact curves of the bin indices (docs/metrics.md).
    scores = maps if mode == "exact" else bin_index(torch.from_numpy(maps), T).numpy().astype(np.float64)
    levels = {
        "image": (masks.max(axis=(1, 2)), scores.max(axis=(1, 2))),
        "pixel": (masks.ravel(), scores.ravel()),
    }
    for level, (y, s) in levels.items():
        positives = np.unique(s[y == 1])
        fpr, tpr, thresholds = roc_curve(y, s, drop_intermediate=False)
        roc = np.stack([fpr, tpr], axis=1)[1::7] if level == "pixel" else np.stack([fpr, tpr], axis=1)
        assert _on_polyline(roc, curves[f"{level}_roc"]).max() < 1e-12, level
        at_positive = np.isin(thresholds, positives)
        assert _is_vertex(np.stack([fpr, tpr], axis=1)[at_positive][::5], curves[f"{level}_roc"]).all()
        precision, recall, pr_thresholds = precision_recall_curve(y, s)
        pr = np.stack([recall, precision], axis=1)
        assert _on_polyline(pr[:: 7 if level == "pixel" else 1], curves[f"{level}_pr"]).max() < 1e-12, level
        at_positive = np.isin(pr_thresholds, positives)
        assert _is_vertex(pr[:-1][at_positive][::5], curves[f"{level}_pr"]).all(), level
    fpr, pro, thresholds = _pro_oracle(scores, masks)
    inside = fpr <= 0.3
    points = np.stack([fpr, pro], axis=1)[inside]
    assert _on_polyline(points[::5], curves["pixel_pro"]).max() < 1e-12
    at_positive = np.isin(thresholds[inside], np.unique(scores[masks == 1]))
    assert _is_vertex(points[at_positive][::5], curves["pixel_pro"]).all()


def test_downsampled_curves_keep_shape_ends_and_area() -> None:
    maps, masks = blob_data(np.random.default_rng(9), n=16, size=32)
    metrics = _metrics(maps, masks)
    full = metrics.curves(max_points=None)
    small = metrics.curves(max_points=200)
    assert len(full["pixel_pr"]) > 1000 and len(full["pixel_roc"]) > 500 and len(full["pixel_pro"]) > 200
    for key, curve in small.items():
        whole = full[key]
        assert len(curve) <= 200, key
        assert (curve.x[0], curve.y[0]) == (whole.x[0], whole.y[0]), key
        assert (curve.x[-1], curve.y[-1]) == (whole.x[-1], whole.y[-1]), key
        assert curve.area == whole.area, key
        # Every kept point is an operating point of the full curve, in the same order.
        index = [
            np.flatnonzero((whole.x == x) & (whole.y == y))[0] for x, y in zip(curve.x, curve.y, strict=True)
        ]
        assert np.all(np.diff(index) > 0), key
        # Shape: every full vertex is close to the kept polyline (axes scaled to their extent).
        sx, sy = np.ptp(whole.x) or 1.0, np.ptp(whole.y) or 1.0
        scaled = Curve(curve.x / sx, curve.y / sy, "", "", "", 0.0)
        length = np.sum(np.hypot(np.diff(whole.x) / sx, np.diff(whole.y) / sy))
        gap = _on_polyline(np.stack([whole.x / sx, whole.y / sy], axis=1), scaled).max()
        assert gap <= 2 * length / (200 // 2 - 1), key
        extent = 0.3 if key == "pixel_pro" else 1.0
        assert np.trapezoid(curve.y, curve.x) / extent == pytest.approx(whole.area, abs=5e-3), key


def test_curves_follow_new_updates_and_reset(blobs: tuple[np.ndarray, np.ndarray]) -> None:
    maps, masks = blobs  # images 0 and 1 are normal
    first_part, second_part = [0, 2, 3, 4, 5, 6], [1, 7, 8]
    metrics = _metrics(maps[first_part], masks[first_part])
    first = metrics.compute()
    assert metrics.curves()["pixel_pro"].area == pytest.approx(first["pixel_aupro"], abs=1e-12)
    m, y = torch.from_numpy(maps[second_part]), torch.from_numpy(masks[second_part])
    metrics.update(m.amax(dim=(1, 2)), y.amax(dim=(1, 2)), m, y)
    everything = _metrics(maps[first_part + second_part], masks[first_part + second_part]).compute()
    assert everything["pixel_aupro"] != pytest.approx(first["pixel_aupro"], abs=1e-6)
    assert metrics.curves()["pixel_pro"].area == pytest.approx(everything["pixel_aupro"], abs=1e-12)
    metrics.reset()
    metrics.update(m.amax(dim=(1, 2)), y.amax(dim=(1, 2)), m, y)
    rest = _metrics(maps[second_part], masks[second_part]).compute()
    assert rest["pixel_aupro"] != pytest.approx(everything["pixel_aupro"], abs=1e-6)
    assert metrics.curves()["pixel_pro"].area == pytest.approx(rest["pixel_aupro"], abs=1e-12)


def test_undefined_curves_are_left_out() -> None:
    maps = torch.rand(3, 8, 8)
    no_defect = AnomalyMetrics()
    no_defect.update(maps.amax(dim=(1, 2)), torch.zeros(3, dtype=torch.long), maps, torch.zeros(3, 8, 8))
    assert no_defect.curves() == {}
    all_defect = AnomalyMetrics(pixel=False)
    all_defect.update(torch.tensor([0.2, 0.9]), torch.tensor([1, 1]))
    curves = all_defect.curves()
    assert list(curves) == ["image_pr"]  # AP = 1 without negatives, as sklearn; AUROC undefined
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert curves["image_pr"].area == all_defect.compute()["image_ap"] == 1.0


def test_downsample_rejects_a_budget_below_two() -> None:
    curve = Curve(np.linspace(0, 1, 10), np.linspace(0, 1, 10), "FPR", "TPR", "image_auroc", 0.5)
    with pytest.raises(ValueError, match="max_points must be >= 2"):
        curve.downsample(1)
    assert curve.downsample(None) is curve and curve.downsample(10) is curve
