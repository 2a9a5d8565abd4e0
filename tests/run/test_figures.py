"""Figures on disk: curve PNGs hold the metric curves, bars the per-category percentages, overlays
the panels; every write is atomic."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from winclip_lit.files import write_atomic
from winclip_lit.metrics import AnomalyMetrics
from winclip_lit.reporting.figures import (
    DPI,
    category_figure_paths,
    draw_curves,
    draw_metric_bars,
    save_overlay,
    write_category_figures,
)
from winclip_lit.samples import ImageResult


def _metrics() -> AnomalyMetrics:
    gen = torch.Generator().manual_seed(0)
    masks = torch.zeros(6, 16, 16, dtype=torch.uint8)
    masks[3:, 4:9, 5:11] = 1
    maps = (0.6 * masks + 0.5 * torch.rand(6, 16, 16, generator=gen)).clamp(0, 1)
    metrics = AnomalyMetrics()
    metrics.update(maps.amax(dim=(1, 2)), masks.amax(dim=(1, 2)), maps, masks)
    return metrics


def _png_size(path: Path) -> tuple[int, int]:
    with Image.open(path) as image:
        assert image.format == "PNG"
        return image.size


def test_curve_png_holds_every_curve_with_its_metric(tmp_path: Path) -> None:
    metrics = _metrics()
    values, curves = metrics.compute(), metrics.curves()
    drawn = draw_curves(tmp_path / "bottle" / "curves.png", curves, title="bottle")
    assert _png_size(tmp_path / "bottle" / "curves.png") == (round(3 * 4.2 * DPI), round(4.0 * DPI))
    assert len(drawn) == 5
    names = {
        "image_roc": "image ROC, AUROC",
        "image_pr": "image PR, AP",
        "pixel_roc": "pixel ROC, AUROC",
        "pixel_pr": "pixel PR, AP",
        "pixel_pro": "PRO, AUPRO",
    }
    for key, curve in curves.items():
        label = f"{names[key]} {100 * values[curve.metric]:.1f}"
        np.testing.assert_array_equal(drawn[label], np.stack([curve.x, curve.y], axis=1))


def test_metric_bars_are_the_percentages(tmp_path: Path) -> None:
    results = {
        "bottle": {"image_auroc": 0.9, "pixel_aupro": 0.625},
        "screw": {"image_auroc": 0.55, "pixel_aupro": None},
        "mean": {"image_auroc": 0.725, "pixel_aupro": math.nan},
    }
    drawn = draw_metric_bars(tmp_path / "metrics.png", results, ["image_auroc", "pixel_aupro"])
    assert drawn["image_auroc"] == pytest.approx([90.0, 55.0, 72.5])
    assert drawn["pixel_aupro"][0] == pytest.approx(62.5)
    assert math.isnan(drawn["pixel_aupro"][1]) and math.isnan(drawn["pixel_aupro"][2])
    assert _png_size(tmp_path / "metrics.png")[0] > 0


def test_category_figures_layout_and_overlays(tmp_path: Path) -> None:
    image = tmp_path / "data" / "crack" / "004.png"
    image.parent.mkdir(parents=True)
    Image.new("RGB", (40, 30), (90, 140, 30)).save(image)
    anomaly_map = torch.linspace(0, 1, 16 * 16).view(16, 16)
    mask = np.zeros((16, 16), dtype=np.uint8)
    mask[2:6, 2:6] = 1
    result = ImageResult(str(image), "crack", 1, 0.8)
    written = write_category_figures(
        tmp_path / "run", "bottle", _metrics().curves(), [(result, anomaly_map, mask)]
    )
    curve_png, samples = category_figure_paths(tmp_path / "run", "bottle")
    assert written == [curve_png, samples / "00_crack_004.png"]
    assert _png_size(samples / "00_crack_004.png") == (3 * 16, 16)
    with Image.open(samples / "00_crack_004.png") as picture:
        tiles = np.asarray(picture)
    np.testing.assert_array_equal(tiles[:, 32:, 0] > 0, mask.astype(bool))  # the ground-truth tile
    save_overlay(tmp_path / "no_mask.png", image, anomaly_map.numpy(), 0.5)
    assert _png_size(tmp_path / "no_mask.png") == (2 * 16, 16)


def test_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = write_atomic(tmp_path / "a.png", lambda handle: handle.write(b"old"))

    def broken(handle) -> None:
        handle.write(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_atomic(target, broken)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.png"]
