"""Exact pixel metrics switch to binned mode when their memory would pass ``max_exact_gb``.

The switched results are checked against sklearn / the skimage AUPRO oracle: on the quantised scores
b(s) = floor(clamp(s, 0, 1) * (T - 1)) they are exact, on the raw scores within the binned tolerance.
"""

import warnings

import numpy as np
import pytest
import torch
from metrics_data import blob_data
from metrics_oracles import oracle_aupro, sk_f1max
from sklearn.metrics import average_precision_score, roc_auc_score

from winclip_lit.metrics import EXACT_BYTES_PER_PIXEL, AnomalyMetrics, BinnedFallbackWarning

T = 1000
BATCH, SIZE = 4, 32
BATCH_BYTES = BATCH * SIZE * SIZE * EXACT_BYTES_PER_PIXEL


@pytest.fixture(scope="module")
def data() -> tuple[torch.Tensor, ...]:
    maps, masks = blob_data(np.random.default_rng(5), n=5 * BATCH, size=SIZE)
    maps, masks = torch.from_numpy(maps), torch.from_numpy(masks)
    return maps.amax(dim=(1, 2)).double(), masks.amax(dim=(1, 2)), maps, masks


def _batches(data: tuple[torch.Tensor, ...]):
    for i in range(0, len(data[0]), BATCH):
        yield tuple(x[i : i + BATCH] for x in data)


def _stored_map_pixels(metrics: AnomalyMetrics) -> int:
    return sum(m.numel() for m in metrics.maps)


def _quantise(x: np.ndarray) -> np.ndarray:
    return np.floor(np.clip(x.astype(np.float32), 0, 1) * np.float32(T - 1))


def _oracle(maps: np.ndarray, masks: np.ndarray) -> dict[str, float]:
    y, s = masks.ravel(), maps.ravel()
    return {
        "pixel_auroc": roc_auc_score(y, s),
        "pixel_ap": average_precision_score(y, s),
        "pixel_f1max": sk_f1max(y, s),
        "pixel_aupro": oracle_aupro(maps, masks),
    }


def test_switch_happens_when_the_next_batch_would_pass_the_cap(data) -> None:
    metrics = AnomalyMetrics(num_thresholds=T, max_exact_gb=3 * BATCH_BYTES / 1e9)  # room for 3 batches
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for n, batch in enumerate(_batches(data), start=1):
            metrics.update(*batch)
            if n <= 3:
                assert metrics.pixel_mode == "exact" and _stored_map_pixels(metrics) == n * BATCH * SIZE**2
            else:
                assert metrics.pixel_mode == "binned" and _stored_map_pixels(metrics) == 0
    notices = [w for w in caught if issubclass(w.category, BinnedFallbackWarning)]
    assert len(notices) == 1 and "\n" not in str(notices[0].message)
    assert "max_exact_gb" in str(notices[0].message)


def test_switched_results_match_sklearn(data) -> None:
    metrics = AnomalyMetrics(num_thresholds=T, max_exact_gb=2.5 * BATCH_BYTES / 1e9)
    with pytest.warns(BinnedFallbackWarning):
        for batch in _batches(data):
            metrics.update(*batch)
    got = metrics.compute()
    assert metrics.pixel_mode == "binned"
    maps, masks = data[2].numpy(), data[3].numpy()
    on_quantised = _oracle(_quantise(maps), masks)
    on_raw = _oracle(maps, masks)
    for key, value in on_quantised.items():
        assert got[key] == pytest.approx(value, abs=1e-9), key  # binned = exact on b(s)
        assert abs(got[key] - on_raw[key]) < 1e-2, key  # the binned tolerance of docs/metrics.md
    assert got["image_auroc"] == pytest.approx(roc_auc_score(data[1].numpy(), data[0].numpy()), abs=1e-12)


def test_reset_restores_exact_mode_for_the_next_category(data) -> None:
    metrics = AnomalyMetrics(num_thresholds=T, max_exact_gb=1.5 * BATCH_BYTES / 1e9)
    with pytest.warns(BinnedFallbackWarning):
        for batch in _batches(data):
            metrics.update(*batch)
    metrics.compute()
    metrics.reset()  # next category
    with warnings.catch_warnings():
        warnings.simplefilter("error", BinnedFallbackWarning)
        last = list(_batches(data))[1]  # normal and anomalous images
        metrics.update(*last)
        assert metrics.pixel_mode == "exact"
        got = metrics.compute()
    for key, value in _oracle(last[2].numpy(), last[3].numpy()).items():
        assert got[key] == pytest.approx(value, abs=1e-9), key


def test_default_cap_is_4_gb_and_none_disables_it() -> None:
    assert AnomalyMetrics().max_exact_gb == 4.0
    assert AnomalyMetrics(max_exact_gb=None).max_exact_gb is None
    for bad in (0, -1.0, "big"):
        with pytest.raises(ValueError, match="max_exact_gb"):
            AnomalyMetrics(max_exact_gb=bad)
