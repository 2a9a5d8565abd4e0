"""Benchmark of AUPRO.compute(): exact vs binned vs an sklearn-based oracle (not a timed test).

Usage:
    python benchmarks/bench_metrics.py            # 200 maps 256x256, then the 400 x 240x240 goal
    python benchmarks/bench_metrics.py --smoke    # tiny sizes, a few seconds (CI)

Peak memory is the NumPy/Python heap traced by tracemalloc during compute() (a second, untimed
run), on top of the stored metric state whose size is printed separately.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
from collections.abc import Callable
from functools import partial

import numpy as np
import torch
from scipy import ndimage
from sklearn.metrics import roc_curve
from torchmetrics import Metric

from winclip_lit.metrics import AUPRO, AnomalyMetrics


def blob_maps(n: int, size: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Smooth float32 anomaly maps and uint8 blob-defect masks; a third of the images are normal."""
    rng = np.random.default_rng(seed)
    maps = np.empty((n, size, size), np.float32)
    masks = np.zeros((n, size, size), np.uint8)
    for i in range(n):
        if i % 3:
            noise = ndimage.gaussian_filter(rng.normal(size=(size, size)), sigma=size / 40)
            masks[i] = noise > np.quantile(noise, 0.97)
        smooth = ndimage.gaussian_filter(masks[i] + 0.7 * rng.random((size, size)), sigma=2)
        maps[i] = smooth / max(smooth.max(), 1e-6)
    return torch.from_numpy(maps), torch.from_numpy(masks)


def oracle_aupro(maps: np.ndarray, masks: np.ndarray, fpr_limit: float = 0.3) -> float:
    """Per-image scipy labelling + sklearn's weighted ROC curve + the MVTec trapezoid."""
    weights = np.ones(masks.shape, dtype=np.float64)
    for i, mask in enumerate(masks):
        regions, _ = ndimage.label(mask, structure=np.ones((3, 3)))
        areas = np.bincount(regions.ravel())
        weights[i][regions > 0] = 1.0 / areas[regions[regions > 0]]
    fpr, pro, _ = roc_curve(
        masks.ravel(), maps.ravel(), sample_weight=weights.ravel(), drop_intermediate=False
    )
    ins = int(np.searchsorted(fpr, fpr_limit, side="left"))
    pro_limit = pro[ins - 1] + (pro[ins] - pro[ins - 1]) * (fpr_limit - fpr[ins - 1]) / (
        fpr[ins] - fpr[ins - 1]
    )
    inner = np.sum((fpr[1:ins] - fpr[: ins - 1]) * (pro[1:ins] + pro[: ins - 1])) / 2
    return float(inner + (fpr_limit - fpr[ins - 1]) * (pro[ins - 1] + pro_limit) / 2) / fpr_limit


def measure(prepare: Callable[[], Callable[[], object]]) -> tuple[float, float, float]:
    """Returns (value, seconds, peak MiB) of the callable built by ``prepare``.

    ``prepare`` runs twice, untimed; its callable runs once timed and once under tracemalloc.
    """
    work = prepare()
    start = time.perf_counter()
    value = float(work())
    seconds = time.perf_counter() - start
    work = prepare()
    tracemalloc.start()
    work()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return value, seconds, peak


def filled(metric: Metric, maps: torch.Tensor, masks: torch.Tensor, batch: int = 32) -> Metric:
    """A fresh copy of ``metric`` updated batch by batch with the maps and masks."""
    fresh = metric.clone()
    for i in range(0, len(maps), batch):
        fresh.update(maps[i : i + batch], masks[i : i + batch])
    return fresh


def state_mib(metric: Metric) -> float:
    """Size of the stored metric state in MiB."""
    sizes = [
        sum(t.nbytes for t in v) if isinstance(v, list) else v.nbytes for v in metric.metric_state.values()
    ]
    return sum(sizes) / 2**20


def compare(n: int, size: int, num_thresholds: int) -> None:
    """Prints exact, binned and oracle AUPRO side by side."""
    maps, masks = blob_maps(n, size)
    print(f"\nAUPRO.compute() on {n} maps {size}x{size} ({n * size * size / 1e6:.1f} M pixels)")
    print(f"{'method':<22}{'value':>12}{'compute s':>11}{'peak MiB':>10}{'state MiB':>11}")
    results = {}
    for name, metric in (
        ("exact", AUPRO()),
        (f"binned T={num_thresholds}", AUPRO(mode="binned", num_thresholds=num_thresholds)),
        ("sklearn oracle", None),
    ):
        if metric is None:
            value, seconds, peak = measure(lambda: partial(oracle_aupro, maps.numpy(), masks.numpy()))
            state = "-"
        else:
            value, seconds, peak = measure(lambda m=metric: filled(m, maps, masks).compute)
            state = f"{state_mib(filled(metric, maps, masks)):.2f}"
        results[name] = (value, seconds)
        print(f"{name:<22}{value:>12.6f}{seconds:>11.3f}{peak:>10.1f}{state:>11}")
    (exact, exact_s), (binned, _), (oracle, oracle_s) = results.values()
    print(f"oracle / exact time: {oracle_s / exact_s:.1f}x;  |exact - oracle| = {abs(exact - oracle):.1e}")
    print(f"|binned - exact| = {abs(binned - exact):.1e}")


def goal(n: int, size: int) -> None:
    """Times exact AUPRO and the full exact AnomalyMetrics on a whole category."""
    maps, masks = blob_maps(n, size, seed=1)
    _, aupro_s, peak = measure(lambda: filled(AUPRO(), maps, masks).compute)

    def all_metrics() -> Callable[[], dict[str, float]]:
        metrics = AnomalyMetrics()
        for i in range(0, n, 32):
            m, y = maps[i : i + 32], masks[i : i + 32]
            metrics.update(m.amax(dim=(1, 2)), y.amax(dim=(1, 2)), m, y)
        return lambda: metrics.compute()["pixel_aupro"]

    _, all_s, all_peak = measure(all_metrics)
    state = state_mib(filled(AUPRO(), maps, masks))
    print(
        f"\nGoal: exact AUPRO.compute() on {n} maps {size}x{size}: {aupro_s:.2f} s (target < 2 s), ", end=""
    )
    print(f"peak {peak:.0f} MiB over a {state:.0f} MiB state")
    print(f"      exact AnomalyMetrics.compute(), all 7 metrics: {all_s:.2f} s, peak {all_peak:.0f} MiB")


def main() -> None:
    """Parses the arguments and runs the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes for CI")
    parser.add_argument("--num-thresholds", type=int, default=1000)
    args = parser.parse_args()
    torch.manual_seed(0)
    print(f"torch threads: {torch.get_num_threads()}")
    if args.smoke:
        compare(8, 32, args.num_thresholds)
        goal(8, 24)
    else:
        compare(200, 256, args.num_thresholds)
        goal(400, 240)


if __name__ == "__main__":
    main()
