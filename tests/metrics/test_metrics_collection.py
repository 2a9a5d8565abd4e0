"""AnomalyMetrics API, duplicate removal, raw collections, compact state dtypes and input checks."""

import math

import numpy as np
import pytest
import torch
from metrics_data import blob_data
from metrics_oracles import oracle_aupro
from torch import nn

from winclip_lit.metrics import (
    HEADLINE_KEYS,
    MAD_KEY,
    METRIC_KEYS,
    OPERATOR_KEYS,
    AnomalyMetrics,
    make_metric_collections,
)


@pytest.fixture(scope="module")
def data() -> tuple[torch.Tensor, ...]:
    maps, masks = blob_data(np.random.default_rng(3), n=10, size=24, decimals=2)
    maps, masks = torch.from_numpy(maps), torch.from_numpy(masks)
    return maps.amax(dim=(1, 2)), masks.amax(dim=(1, 2)), maps, masks


def test_keys_reset_and_module(data: tuple[torch.Tensor, ...]) -> None:
    metrics = AnomalyMetrics()
    assert isinstance(metrics, nn.Module)
    metrics.update(*data)
    first = metrics.compute()
    assert tuple(first) == METRIC_KEYS
    assert all(0.0 <= v <= 1.0 for v in first.values())
    assert first["pixel_aupro"] == pytest.approx(oracle_aupro(data[2].numpy(), data[3].numpy()), abs=1e-6)
    metrics.reset()
    metrics.update(*data)
    assert metrics.compute() == first
    image_only = AnomalyMetrics(pixel=False)
    image_only.update(*data[:2])
    assert tuple(image_only.compute()) == (*HEADLINE_KEYS[:3], *OPERATOR_KEYS)  # no pixel metrics, no mad


@pytest.mark.parametrize("mode", ["exact", "binned"])
def test_repeated_sample_ids_are_counted_once(data: tuple[torch.Tensor, ...], mode: str) -> None:
    reference = AnomalyMetrics(mode=mode)
    reference.update(*data, sample_ids=torch.arange(10))
    padded = AnomalyMetrics(mode=mode)
    order = torch.tensor([0, 2, 4, 6, 8, 1, 3, 5, 7, 9, 0, 1, 2])  # padded with repeats
    padded.update(*(x[order[:7]] for x in data), sample_ids=order[:7])
    padded.update(*(x[order[7:]] for x in data), sample_ids=order[7:])
    duplicated = AnomalyMetrics(mode=mode)
    duplicated.update(*(x[order] for x in data))  # without ids the repeats count twice
    assert padded.compute() == pytest.approx(reference.compute(), abs=1e-12)
    assert duplicated.compute()["pixel_aupro"] != pytest.approx(reference.compute()["pixel_aupro"], abs=1e-6)


def test_collections_equal_anomaly_metrics_and_share_pixel_state(data: tuple[torch.Tensor, ...]) -> None:
    metrics = AnomalyMetrics()
    metrics.update(*data)
    image, pixel = make_metric_collections()
    image.update(*data[:2])
    pixel.update(*data[2:])
    raw = {k: v.item() for k, v in {**image.compute(), **pixel.compute()}.items()}
    assert set(raw) == set(METRIC_KEYS) - {MAD_KEY}
    expected = {k: v for k, v in metrics.compute().items() if k != MAD_KEY}  # mad is no raw metric
    assert raw == pytest.approx(expected, abs=1e-12)
    assert len(pixel.compute_groups) == 1


def test_exact_state_is_compact(data: tuple[torch.Tensor, ...]) -> None:
    metrics = AnomalyMetrics()
    metrics.update(data[0], data[1].long(), data[2].double(), data[3].float(), torch.arange(10))
    assert metrics.maps[0].dtype == torch.float32
    assert metrics.masks[0].dtype == torch.uint8
    assert metrics.labels[0].dtype == torch.uint8
    assert metrics.image_scores[0].dtype == torch.float64  # (B,) only: exact image ranking
    _, pixel = make_metric_collections()
    pixel.update(data[2].double(), data[3].long())
    assert {v[0].dtype for k, v in pixel["pixel_aupro"].metric_state.items()} == {torch.float32, torch.uint8}


def test_binned_state_is_per_sample_histograms(data: tuple[torch.Tensor, ...]) -> None:
    metrics = AnomalyMetrics(mode="binned", num_thresholds=100)
    metrics.update(*data)
    assert metrics.neg_hist[0].shape == (10, 100) and metrics.neg_hist[0].dtype == torch.int32
    assert metrics.weight_hist[0].dtype == torch.float64
    assert not hasattr(metrics, "maps")


def test_compute_without_update_is_nan() -> None:
    with pytest.warns(UserWarning):
        out = AnomalyMetrics().compute()
    assert tuple(out) == METRIC_KEYS and all(math.isnan(v) for v in out.values())


@pytest.mark.parametrize(
    ("index", "bad", "message"),
    [
        (0, torch.rand(10, 1), "image_scores must have shape \\(B,\\)"),
        (1, torch.arange(10), "labels must be binary"),
        (2, torch.rand(10, 24, 23), "does not match masks shape"),
        (2, torch.rand(9, 24, 24), "does not match masks shape"),
        (3, torch.full((10, 24, 24), 0.5), "masks must be binary"),
        (2, None, "anomaly_maps and masks are required"),
        (4, torch.rand(10), "sample_ids must be an integer tensor"),
    ],
)
def test_bad_input_raises(
    data: tuple[torch.Tensor, ...], index: int, bad: torch.Tensor, message: str
) -> None:
    args = [*data, torch.arange(10)]
    args[index] = bad
    with pytest.raises(ValueError, match=message):
        AnomalyMetrics().update(*args)


def test_maps_and_image_scores_of_different_batch_size_raise(data: tuple[torch.Tensor, ...]) -> None:
    with pytest.raises(ValueError, match="anomaly_maps has 9 samples but image_scores has 10"):
        AnomalyMetrics().update(*data[:2], data[2][:9], data[3][:9])


def test_sample_ids_for_some_batches_only_raise(data: tuple[torch.Tensor, ...]) -> None:
    metrics = AnomalyMetrics()
    metrics.update(*data, sample_ids=torch.arange(10))
    metrics.update(*data)
    with pytest.raises(ValueError, match="sample_ids given for 10 of 20 samples"):
        metrics.compute()
