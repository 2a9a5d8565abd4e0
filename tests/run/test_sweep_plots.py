"""Sweep figures: the plotted means and stds are the hand-computed ones over seeds, in percent."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from winclip_lit.reporting.sweep_plots import (
    draw_setting_bars,
    draw_shot_curves,
    draw_sweep_figures,
    seed_stats,
)

PAPER = {
    ("mvtec", 1): {"image_auroc": 93.1},
    ("mvtec", 4): {"image_auroc": 95.2},
    ("visa", 1): {"image_auroc": 83.8},
}


def _setting(k: int, average: str = "normalized", scales: tuple[int, ...] = (2, 3)) -> dict:
    return {
        "dataset.name": "mvtec",
        "shot.k": k,
        "prompt.text_average": average,
        "window.scales": list(scales),
    }


def _means(*image_auroc: float | None) -> list[dict]:
    return [{"image_auroc": v, "pixel_aupro": 0.5} for v in image_auroc]


SHOT_SWEEP = [
    (_setting(1), _means(0.90, 0.92, 0.95)),
    (_setting(2), _means(0.93, 0.94, 0.91)),
    (_setting(4), _means(0.96, 0.95, 0.97)),
    (_setting(1, "raw"), _means(0.80, 0.86)),
    (_setting(4, "raw"), _means(0.85, None)),  # a seed without the metric: no point at k=4
]


def _hand(values: list[float]) -> tuple[float, float]:
    percent = 100 * np.array(values)
    return float(percent.mean()), float(percent.std(ddof=1)) if len(percent) > 1 else 0.0


def _png(path: Path) -> None:
    with Image.open(path) as image:
        assert image.format == "PNG" and image.size[0] > 100


def test_seed_stats_is_percent_mean_and_sample_std() -> None:
    assert seed_stats(_means(0.9, 0.92, 0.95), "image_auroc") == pytest.approx((*_hand([0.9, 0.92, 0.95]), 3))
    assert seed_stats(_means(0.8), "image_auroc") == (80.0, 0.0, 1)
    assert seed_stats(_means(0.8, None), "image_auroc") is None
    assert seed_stats(_means(0.8, float("nan")), "image_auroc") is None


def test_shot_curves_plot_mean_and_std_over_seeds(tmp_path: Path) -> None:
    paper = {k: row for (name, k), row in PAPER.items() if name == "mvtec"}
    drawn = draw_shot_curves(tmp_path / "shots.png", SHOT_SWEEP, ["image_auroc", "pixel_aupro"], paper)
    _png(tmp_path / "shots.png")
    lines = drawn["image_auroc"]
    assert set(lines) == {"prompt.text_average=normalized", "prompt.text_average=raw"}
    normalized = lines["prompt.text_average=normalized"]
    assert [p.label for p in normalized] == [1, 2, 4]
    for point, seeds in zip(
        normalized, ([0.90, 0.92, 0.95], [0.93, 0.94, 0.91], [0.96, 0.95, 0.97]), strict=True
    ):
        assert (point.mean, point.std) == pytest.approx(_hand(seeds), abs=1e-9)
    (raw,) = lines["prompt.text_average=raw"]
    assert (raw.label, raw.mean, raw.std, raw.n) == (
        1,
        pytest.approx(83.0),
        pytest.approx(_hand([0.8, 0.86])[1]),
        2,
    )
    assert all(
        p.mean == pytest.approx(50.0) and p.std == 0.0
        for p in drawn["pixel_aupro"]["prompt.text_average=raw"]
    )


def test_setting_bars_of_a_window_ablation(tmp_path: Path) -> None:
    ablation = [
        (_setting(0, scales=(2,)), _means(0.85, 0.87)),
        (_setting(0, scales=(2, 3)), _means(0.91, 0.90)),
        (_setting(0, scales=(2, 3, 4)), _means(0.89)),
    ]
    drawn = draw_setting_bars(tmp_path / "bars.png", ablation, ["image_auroc"], paper={"image_auroc": 91.8})
    _png(tmp_path / "bars.png")
    bars = drawn["image_auroc"]
    assert [b.label for b in bars] == ["window.scales=[2]", "window.scales=[2, 3]", "window.scales=[2, 3, 4]"]
    for bar, seeds in zip(bars, ([0.85, 0.87], [0.91, 0.90], [0.89]), strict=True):
        assert (bar.mean, bar.std, bar.n) == pytest.approx((*_hand(seeds), len(seeds)), abs=1e-9)


def test_sweep_figures_pick_the_plot_that_fits(tmp_path: Path) -> None:
    assert draw_sweep_figures(tmp_path / "k", SHOT_SWEEP, PAPER) == {
        "shots": tmp_path / "k" / "sweep_shots.png"
    }
    ablation = [(_setting(1, average=a), _means(0.9, 0.8)) for a in ("normalized", "raw")]
    assert draw_sweep_figures(tmp_path / "a", ablation, PAPER) == {
        "settings": tmp_path / "a" / "sweep_settings.png"
    }
    _png(tmp_path / "k" / "sweep_shots.png")
    _png(tmp_path / "a" / "sweep_settings.png")
    assert draw_sweep_figures(tmp_path / "one", ablation[:1], PAPER) == {}
