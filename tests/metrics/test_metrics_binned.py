"""Binned mode: equals the exact metrics of quantised scores, and is within 1e-2 of exact."""

import numpy as np
import pytest
import torch
from metrics_data import blob_data

from winclip_lit.metrics import AUPRO, MAD_KEY, METRIC_KEYS, AnomalyMetrics, make_metric_collections

T = 1000


def _quantise(x: np.ndarray, num_thresholds: int = T) -> np.ndarray:
    """Independent float32 twin of the documented bin rule floor(clamp(s, 0, 1) * (T - 1))."""
    return np.floor(np.clip(x.astype(np.float32), 0, 1) * np.float32(num_thresholds - 1)).astype(np.float32)


def _run(mode: str, maps: np.ndarray, masks: np.ndarray, num_thresholds: int = T) -> dict[str, float]:
    metrics = AnomalyMetrics(mode=mode, num_thresholds=num_thresholds)
    for i in range(0, len(maps), 4):
        m, y = torch.from_numpy(maps[i : i + 4]), torch.from_numpy(masks[i : i + 4])
        metrics.update(m.amax(dim=(1, 2)), y.amax(dim=(1, 2)), m, y)
    return metrics.compute()


@pytest.fixture(scope="module")
def smooth() -> tuple[np.ndarray, np.ndarray]:
    return blob_data(np.random.default_rng(11), n=24, size=64)


def test_binned_is_within_1e2_of_exact(smooth: tuple[np.ndarray, np.ndarray]) -> None:
    exact, binned = _run("exact", *smooth), _run("binned", *smooth)
    for key in METRIC_KEYS:
        assert abs(binned[key] - exact[key]) < 1e-2, key


@pytest.mark.parametrize("num_thresholds", [10, T])
def test_binned_equals_exact_on_quantised_scores(
    smooth: tuple[np.ndarray, np.ndarray], num_thresholds: int
) -> None:
    maps, masks = smooth
    binned = _run("binned", maps, masks, num_thresholds)
    exact = _run("exact", _quantise(maps, num_thresholds), masks)
    assert binned == pytest.approx(exact, abs=1e-12)


def test_binned_clamps_scores_outside_unit_interval(smooth: tuple[np.ndarray, np.ndarray]) -> None:
    maps, masks = smooth
    stretched = (maps * 3 - 1).astype(np.float32)  # values in [-1, 2]
    assert _run("binned", stretched, masks) == pytest.approx(
        _run("binned", np.clip(stretched, 0, 1), masks), abs=1e-12
    )


def test_binned_state_is_constant_in_the_number_of_pixels(smooth: tuple[np.ndarray, np.ndarray]) -> None:
    maps, masks = map(torch.from_numpy, smooth)
    metric = AUPRO(mode="binned", num_thresholds=T)
    sizes = []
    for _ in range(3):
        metric.update(maps, masks)
        sizes.append(sum(v.nbytes for v in metric.metric_state.values()))
    assert sizes[0] == sizes[-1] <= 3 * 8 * T + 8


def test_binned_collections_match_anomaly_metrics(smooth: tuple[np.ndarray, np.ndarray]) -> None:
    maps, masks = map(torch.from_numpy, smooth)
    image, pixel = make_metric_collections(mode="binned")
    pixel.update(maps, masks)
    image.update(maps.amax(dim=(1, 2)), masks.amax(dim=(1, 2)))
    raw = {k: v.item() for k, v in {**image.compute(), **pixel.compute()}.items()}
    expected = _run("binned", *smooth)
    assert raw == pytest.approx({k: v for k, v in expected.items() if k != MAD_KEY}, abs=1e-12)
