"""AUPRO against hand-computed values and an independent skimage + sklearn oracle."""

import math

import numpy as np
import pytest
import torch
from metrics_data import blob_data
from metrics_oracles import oracle_aupro

from winclip_lit.metrics import AUPRO

TOL = 1e-6


def _aupro(maps: np.ndarray, masks: np.ndarray, batch: int = 3, **kwargs: object) -> float:
    metric = AUPRO(**kwargs)
    for i in range(0, len(maps), batch):
        metric.update(torch.as_tensor(maps[i : i + batch]), torch.as_tensor(masks[i : i + batch]))
    return metric.compute().item()


ONE_REGION = (
    np.array([[[0.9, 0.5, 0.8, 0.4], [0.3, 0.2, 0.1, 0.0]]], dtype=np.float32),
    np.array([[[1, 1, 0, 0], [0, 0, 0, 0]]], dtype=np.uint8),
)


def test_one_region_by_hand() -> None:
    # Curve (0,0) (0,.5) (1/6,.5) (1/6,1) (1/3,1): area to 0.3 = 1/12 + (0.3 - 1/6) = 13/60.
    assert _aupro(*ONE_REGION) == pytest.approx(13 / 18, abs=1e-12)


def test_all_normal_image_adds_normal_pixels() -> None:
    maps = np.concatenate([ONE_REGION[0], np.zeros((1, 2, 4), np.float32)])
    masks = np.concatenate([ONE_REGION[1], np.zeros((1, 2, 4), np.uint8)])
    # 14 normal pixels: area = 0.5/14 + (0.3 - 1/14) = 0.3 - 1/28.
    assert _aupro(maps, masks) == pytest.approx(37 / 42, abs=1e-12)
    assert _aupro(maps, masks) == pytest.approx(oracle_aupro(maps, masks), abs=TOL)


def test_two_regions_of_different_size_are_averaged_per_region() -> None:
    masks = np.zeros((1, 4, 4), np.uint8)
    masks[0, 0, 0] = 1  # region A, area 1
    masks[0, 3, 1:] = 1  # region B, area 3
    maps = np.full((1, 4, 4), 0.1, np.float32)
    maps[0, 0, 0] = 0.9
    maps[0, 3, 1:] = [0.7, 0.7, 0.2]
    maps[0, 1, 1], maps[0, 1, 2] = 0.8, 0.6
    # PRO steps 1/2 -> 5/6 -> 1 at FPR 0, 1/12, 1/6: area = 1/24 + 5/72 + 2/15 = 11/45.
    assert _aupro(maps, masks) == pytest.approx(22 / 27, abs=1e-12)


def test_ties_between_normal_and_anomalous_pixels_are_one_threshold() -> None:
    maps = np.array([[[0.5, 0.5, 0.5], [0.0, 0.0, 0.0]]], np.float32)
    masks = np.array([[[1, 1, 0], [0, 0, 0]]], np.uint8)
    # One diagonal step (0,0) -> (1/4, 1): area = 1/8 + 0.05.
    assert _aupro(maps, masks) == pytest.approx(7 / 12, abs=1e-12)


def test_diagonal_pixels_form_one_region() -> None:
    masks = np.zeros((1, 3, 3), np.uint8)
    masks[0, 0, 0] = masks[0, 1, 0] = masks[0, 2, 1] = 1  # (2,1) touches (1,0) only diagonally
    maps = np.full((1, 3, 3), 0.5, np.float32)
    maps[0, 0, 0] = maps[0, 1, 0] = 0.1
    maps[0, 2, 1] = 0.9
    # One region of area 3 -> PRO 1/3 until FPR 1 (4-connectivity would give 1/2).
    assert _aupro(maps, masks) == pytest.approx(1 / 3, abs=1e-12)


def test_regions_never_span_images() -> None:
    masks = np.array([[[0, 0], [1, 1]], [[1, 0], [0, 0]]], np.uint8)
    maps = np.array([[[0.5, 0.5], [0.9, 0.9]], [[0.1, 0.5], [0.5, 0.5]]], np.float32)
    # Two regions (areas 2 and 1): PRO 1/2 until FPR 1; one merged region would give 2/3.
    assert _aupro(maps, masks, batch=2) == pytest.approx(0.5, abs=1e-12)


@pytest.mark.parametrize("decimals", [None, 2])
@pytest.mark.parametrize("seed", [0, 1])
def test_random_blobs_equal_oracle(seed: int, decimals: int | None) -> None:
    maps, masks = blob_data(np.random.default_rng(seed), n=12, size=40, decimals=decimals)
    assert _aupro(maps, masks) == pytest.approx(oracle_aupro(maps, masks), abs=TOL)


@pytest.mark.parametrize("limit", [0.05, 0.3, 1.0])
def test_other_limits_equal_oracle(limit: float) -> None:
    maps, masks = blob_data(np.random.default_rng(5), n=6, size=32, decimals=2)
    assert _aupro(maps, masks, fpr_limit=limit) == pytest.approx(oracle_aupro(maps, masks, limit), abs=TOL)


@pytest.mark.parametrize("transform", [lambda x: (x + 1) ** 3 + 5, np.exp, lambda x: -1.0 / (x + 0.5)])
def test_invariant_under_increasing_transforms(transform) -> None:
    maps, masks = blob_data(np.random.default_rng(7), n=8, size=32, decimals=3)
    transformed = transform(maps.astype(np.float64)).astype(np.float32)
    assert len(np.unique(transformed)) == len(np.unique(maps))
    assert _aupro(transformed, masks) == pytest.approx(_aupro(maps, masks), abs=1e-12)


def test_no_region_is_nan_with_warning() -> None:
    metric = AUPRO()
    metric.update(torch.rand(2, 8, 8), torch.zeros(2, 8, 8))
    with pytest.warns(UserWarning, match="AUPRO is undefined \\(no anomalous regions\\)"):
        assert math.isnan(metric.compute().item())


def test_no_normal_pixel_is_nan_with_warning() -> None:
    metric = AUPRO()
    metric.update(torch.rand(2, 8, 8), torch.ones(2, 8, 8))
    with pytest.warns(UserWarning, match="AUPRO is undefined \\(no normal pixels\\)"):
        assert math.isnan(metric.compute().item())


@pytest.mark.parametrize(
    ("maps", "masks", "message"),
    [
        (torch.rand(2, 8, 8), torch.zeros(2, 8, 7), "does not match masks shape"),
        (torch.rand(2, 8, 8), torch.full((2, 8, 8), 2), "masks must be binary"),
        (torch.rand(2, 1, 8, 8), torch.zeros(2, 1, 8, 8), "anomaly_maps must have shape \\(B, H, W\\)"),
        (torch.zeros(2, 8, 8, dtype=torch.long), torch.zeros(2, 8, 8), "anomaly_maps must be a float tensor"),
        (torch.full((2, 8, 8), math.nan), torch.zeros(2, 8, 8), "anomaly_maps contains NaN"),
    ],
)
def test_bad_input_raises(maps: torch.Tensor, masks: torch.Tensor, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        AUPRO().update(maps, masks)


@pytest.mark.parametrize(
    "kwargs", [{"fpr_limit": 0.0}, {"fpr_limit": 1.5}, {"mode": "fast"}, {"num_thresholds": 1}]
)
def test_bad_arguments_raise(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        AUPRO(**kwargs)
