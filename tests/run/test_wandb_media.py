"""W&B payloads logged to an offline run: line charts hold the curves, the per-image table its rows,
overlays carry prediction and ground-truth masks, bar charts the per-category percentages."""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import wandb
from PIL import Image

import winclip_lit.loggers
from winclip_lit.loggers.wandb_media import (
    IMAGE_TABLE_COLUMNS,
    curve_charts,
    image_table,
    metric_bar_charts,
    sample_images,
)
from winclip_lit.metrics import AnomalyMetrics
from winclip_lit.samples import ImageResult


@pytest.fixture()
def offline_run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Any]:
    monkeypatch.setenv("WANDB_MODE", "offline")
    run = wandb.init(
        project="winclip-test", dir=str(tmp_path), reinit="create_new", settings=wandb.Settings(silent=True)
    )
    yield run
    run.finish()


def _logged(run: Any, key: str) -> dict[str, Any]:
    """The JSON file of a logged table, found through the run summary."""
    return json.loads((Path(run.dir) / run.summary[key]["path"]).read_text())


def test_offline_run_holds_curves_table_overlays_and_bars(offline_run: Any, tmp_path: Path) -> None:
    masks = torch.zeros(6, 16, 16, dtype=torch.uint8)
    masks[3:, 4:9, 5:11] = 1
    maps = (0.6 * masks + 0.5 * torch.rand(6, 16, 16, generator=torch.Generator().manual_seed(1))).clamp(0, 1)
    metrics = AnomalyMetrics()
    metrics.update(maps.amax(dim=(1, 2)), masks.amax(dim=(1, 2)), maps, masks)
    values, curves = metrics.compute(), metrics.curves()
    image = tmp_path / "crack_001.png"
    Image.new("RGB", (24, 20), (200, 40, 40)).save(image)
    results = [
        ImageResult(str(image), "crack", 1, 0.75, 0.9),
        ImageResult("good/000.png", "good", 0, 0.25, None),
    ]
    truth = np.zeros((16, 16), dtype=np.uint8)
    truth[:3, :] = 1  # differs from the prediction, so both mask files are written
    charts = curve_charts("bottle", curves)
    assert list(charts) == ["bottle/roc", "bottle/pr", "bottle/pro"]
    bars = metric_bar_charts(
        {"bottle": values, "screw": {**values, "pixel_aupro": None}}, ["image_auroc", "pixel_aupro"]
    )
    offline_run.log(
        {
            **charts,
            **bars,
            "bottle/images": image_table(results),
            "bottle/samples": sample_images([(results[0], maps[3], truth)], threshold=0.5),
        }
    )
    roc = _logged(offline_run, "bottle/roc_table")
    assert roc["columns"] == ["FPR", "TPR", "curve"]
    for key, label in (("image_roc", "image ROC"), ("pixel_roc", "pixel ROC")):
        rows = np.array([r[:2] for r in roc["data"] if r[2].startswith(label)])
        np.testing.assert_allclose(rows, np.stack([curves[key].x, curves[key].y], axis=1), atol=1e-12)
    pro = _logged(offline_run, "bottle/pro_table")
    assert pro["columns"] == ["FPR", "PRO", "curve"] and pro["data"][-1][0] == pytest.approx(0.3)
    table = _logged(offline_run, "bottle/images")
    assert table["columns"] == list(IMAGE_TABLE_COLUMNS)
    assert table["data"] == [[str(image), "crack", 1, 0.75, 0.9], ["good/000.png", "good", 0, 0.25, None]]
    bar = _logged(offline_run, "metrics/pixel_aupro_table")
    assert bar["data"] == [["bottle", pytest.approx(100 * values["pixel_aupro"])]]  # screw's None is left out
    samples = offline_run.summary["bottle/samples"]
    assert samples["captions"] == ["crack_001.png crack label=1 score=0.750"]
    mask_files = samples["all_masks"][0]
    expected = {"prediction": (maps[3].numpy() >= 0.5).astype(np.uint8), "ground_truth": truth}
    for name, mask in expected.items():
        with Image.open(Path(offline_run.dir) / mask_files[name]["path"]) as stored:
            np.testing.assert_array_equal(np.asarray(stored), mask)
    with Image.open(Path(offline_run.dir) / samples["filenames"][0]) as shown:
        assert shown.size == (16, 16)
    offline_run.finish()
    assert list(Path(offline_run.dir).parent.glob("*.wandb"))


@pytest.mark.parametrize(
    "module",
    [
        "cli/argv",
        "reporting/figures",
        "samples",
        "reporting/sweep_plots",
        "loggers/wandb_media",
        "files",
        "callbacks/dashboard",
        "callbacks/panels",
        "loggers/view",
        "loggers/views",
        "loggers/wandb_view",
        "loggers/tensorboard",
        "loggers/mlflow",
        "loggers/csv_view",
        "loggers/disk_view",
    ],
)
def test_dashboard_modules_import_wandb_and_matplotlib_only_inside_functions(module: str) -> None:
    tree = ast.parse((Path(winclip_lit.__file__).parent / f"{module}.py").read_text())
    top_level = [node for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)]
    names = [alias.name for node in top_level if isinstance(node, ast.Import) for alias in node.names]
    names += [node.module or "" for node in top_level if isinstance(node, ast.ImportFrom)]
    assert not [n for n in names if n.split(".")[0] in ("wandb", "matplotlib")]
