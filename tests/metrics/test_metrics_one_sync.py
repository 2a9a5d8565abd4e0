"""One gathering of the states per category: ``compute_with_subsets`` gives the values and warnings of
``compute()`` and one ``compute_subset`` per group, and the test epoch's end syncs the states once."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from metrics_data import blob_data

from winclip_lit.lit_module import WinCLIPModule
from winclip_lit.metrics import AnomalyMetrics

N = 12
# Normal images are 0-2 (blob_data leaves the first quarter without anomaly); "normals" has no anomalous
# image (NaN metrics, with their warnings).
GROUPS = {"a": [0, 1, 2, 3, 4, 5, 6], "b": [0, 1, 2, 9, 10, 11], "normals": [0, 1, 2]}
SETTINGS = {
    "exact": {},
    "binned": {"mode": "binned", "num_thresholds": 50},
    "capped": {"max_exact_gb": 15_000 / 1e9},  # 10 B per pixel: switches to binned mode at the second batch
    "image": {"pixel": False},
}


def _filled(**kwargs) -> AnomalyMetrics:
    """Metrics updated with N samples in batches of 4, then sample 0 again (as DDP padding repeats it)."""
    maps, masks = blob_data(np.random.default_rng(5), n=N, size=16)
    maps, masks = torch.from_numpy(maps), torch.from_numpy(masks)
    scores, labels = maps.amax(dim=(1, 2)).double(), masks.amax(dim=(1, 2))
    metrics = AnomalyMetrics(**kwargs)
    for rows in (slice(0, 4), slice(4, 8), slice(8, 12), slice(0, 1)):
        pixel = (maps[rows], masks[rows]) if metrics.pixel else (None, None)
        metrics.update(scores[rows], labels[rows], *pixel, sample_ids=torch.arange(N)[rows])
    return metrics


def _same(got: dict[str, float], expected: dict[str, float]) -> None:
    assert list(got) == list(expected)
    np.testing.assert_array_equal(np.array(list(got.values())), np.array(list(expected.values())))


def _warned(call) -> tuple[object, list[tuple[type, str]]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = call()
    return value, [(w.category, str(w.message)) for w in caught]


@pytest.mark.parametrize("setting", list(SETTINGS))
def test_compute_with_subsets_equals_compute_then_subsets(setting: str) -> None:
    kwargs = SETTINGS[setting]
    one = _filled(**kwargs)
    (total, parts), got_warnings = _warned(lambda: one.compute_with_subsets(GROUPS))
    apart = _filled(**kwargs)
    (expected, expected_parts), expected_warnings = _warned(
        lambda: (apart.compute(), {name: apart.compute_subset(ids) for name, ids in GROUPS.items()})
    )
    _same(total, expected)
    assert list(parts) == list(expected_parts)
    for name in GROUPS:
        _same(parts[name], expected_parts[name])
    assert got_warnings == expected_warnings and got_warnings  # the "normals" group warns of its NaNs
    assert one.pixel_mode == apart.pixel_mode == ("binned" if setting in ("binned", "capped") else "exact")
    assert one.compute() is total  # cached like compute()'s value
    for key, curve in apart.curves(max_points=None).items():
        np.testing.assert_array_equal(one.curves(max_points=None)[key].x, curve.x)


def test_compute_with_subsets_without_groups_or_updates() -> None:
    metrics = _filled(pixel=False)
    total, parts = metrics.compute_with_subsets({})
    assert parts == {} and total == metrics.compute()
    empty, apart = AnomalyMetrics(pixel=False), AnomalyMetrics(pixel=False)
    (_, got), got_warnings = _warned(lambda: empty.compute_with_subsets({"a": []}))
    (expected, expected_warnings) = _warned(lambda: (apart.compute(), apart.compute_subset([])))
    _same(got["a"], expected[1])
    assert got_warnings == expected_warnings and any("before the ``update``" in m for _, m in got_warnings)


def test_test_epoch_end_gathers_the_states_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """With a gather that counts its calls (one rank), the category's total and its two types cost one
    gathering of each state, not one per computation."""
    gathered: list[torch.Size] = []

    def gather(tensor: torch.Tensor, group: object = None) -> list[torch.Tensor]:
        gathered.append(tensor.shape)
        return [tensor]

    metrics = _filled(dist_sync_fn=gather, distributed_available_fn=lambda: True)
    module = WinCLIPModule(torch.nn.Identity(), metrics)
    module.defect_groups = {name: GROUPS[name] for name in ("a", "b")}
    logged = []
    monkeypatch.setattr(WinCLIPModule, "trainer", None)  # no Trainer: _gather keeps this process's items
    monkeypatch.setattr(module, "log_dict", lambda values, **kwargs: logged.append(values))
    module.on_test_epoch_end()
    assert len(gathered) == len(metrics.metric_state)  # one sync: each state gathered once
    reference = _filled()
    _same(module.results, reference.compute())
    assert list(module.results_by_type) == ["a", "b"]
    for name, values in module.results_by_type.items():
        _same(values, reference.compute_subset(GROUPS[name]))
    assert logged == [{f"test/{key}": value for key, value in module.results.items()}]
