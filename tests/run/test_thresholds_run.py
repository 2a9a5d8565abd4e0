"""Thresholds through the runs (issue 19): the conformal guarantee on a real evaluation, the f1 validation
part held out of the metrics, per-image score files, and train -> checkpoint -> predict (torch and exported)
applying the same thresholds through the real `winclip-lit` command."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from run_support import TINY, cli_env, make_config
from sklearn.metrics import confusion_matrix

from winclip_lit.data.synthetic import make_mvtec
from winclip_lit.engine.context import RunContext
from winclip_lit.tasks.evaluate import evaluate

ALPHA = 0.1


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open() as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def many_normals(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One category with 60 normal training images (the pool) and 60 normal test images (held out)."""
    root = tmp_path_factory.mktemp("many")
    make_mvtec(root, categories=("bottle",), n_train=60, n_good_test=60, n_defect=3, size=(32, 32))
    return root


@pytest.mark.slow
def test_conformal_threshold_on_a_real_run_keeps_the_false_alarm_rate(
    many_normals: Path, tmp_path: Path
) -> None:
    overrides = [*TINY, f"dataset.root={many_normals}", "dataset.categories=[bottle]", "shot=2"]
    cfg = make_config(
        *overrides, "threshold=conformal", f"threshold.alpha={ALPHA}", "threshold.num_calibration=49"
    )
    payload = evaluate(cfg, RunContext(tmp_path, "evaluate"))
    result = payload["categories"]["bottle"]
    rows = read_csv(tmp_path / "scores" / "bottle.csv")
    assert list(rows[0]) == ["image", "label", "defect", "image_score", "max_pixel_score"]
    assert len(rows) == 60 + 2 * 3 and rows[0]["image"].startswith("bottle/test/")
    scores = np.array([float(r["image_score"]) for r in rows])
    labels = np.array([int(r["label"]) for r in rows])
    tn, fp, fn, tp = confusion_matrix(labels, (scores >= result["image_threshold"]).astype(int)).ravel()
    assert result["image_fpr"] == pytest.approx(fp / (fp + tn)) and result["image_tpr"] == pytest.approx(
        tp / (tp + fn)
    )
    # Held-out normal images: the expected false-alarm rate is 1 - k/(n+1) = 0.1 here (k = 45 of n = 49); one
    # draw of 49 calibration and 60 test images has a standard deviation of about 0.055 around it.
    assert result["image_fpr"] <= ALPHA + 3 * 0.055
    maxima = np.array([float(r["max_pixel_score"]) for r in rows])
    assert np.mean(maxima[labels == 0] >= result["pixel_threshold"]) <= ALPHA + 3 * 0.055
    assert payload["mean"]["image_threshold"] is None and payload["mean"]["image_fpr"] == result["image_fpr"]
    assert (tmp_path / "figures" / "bottle" / "histogram.png").is_file()


@pytest.mark.slow
def test_f1_validation_part_is_held_out_of_the_metrics(many_normals: Path, tmp_path: Path) -> None:
    overrides = [*TINY, f"dataset.root={many_normals}", "dataset.categories=[bottle]", "threshold=f1"]
    payload = evaluate(
        make_config(*overrides, "threshold.validation_split=0.5"), RunContext(tmp_path, "evaluate")
    )
    rows = read_csv(tmp_path / "scores" / "bottle.csv")
    assert len(rows) == 30 + 3  # half of each class (normal 60, defective 6) went to the validation part
    assert 0.0 <= payload["categories"]["bottle"]["image_threshold"] <= 1.0


def winclip_lit(tmp: Path, *args: str) -> subprocess.CompletedProcess:
    script = Path(sys.executable).parent / "winclip-lit"
    command = [str(script)] if script.is_file() else [sys.executable, "-m", "winclip_lit"]
    return subprocess.run(
        [*command, *args], cwd=tmp, env=cli_env(tmp), capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def conformal_checkpoint(many_normals: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``winclip-lit train shot=1 threshold=conformal`` on the many-normals category: its checkpoint.pt."""
    tmp = tmp_path_factory.mktemp("conformal")
    trained = winclip_lit(
        tmp,
        "train",
        *TINY,
        f"dataset.root={many_normals}",
        "dataset.categories=[bottle]",
        "shot=1",
        "threshold=conformal",
        f"threshold.alpha={ALPHA}",
        "threshold.num_calibration=19",
        f"hydra.run.dir={tmp / 'train'}",
    )
    assert trained.returncode == 0, trained.stderr
    return tmp / "train" / "checkpoint.pt"


@pytest.mark.slow
def test_train_checkpoint_predict_and_export_apply_the_same_thresholds(
    many_normals: Path, conformal_checkpoint: Path, tmp_path: Path
) -> None:
    checkpoint = conformal_checkpoint
    stored = torch.load(checkpoint, weights_only=True)["thresholds"]["bottle"]
    assert stored["method"] == "conformal" and stored["num_calibration"] == 19
    images = many_normals / "bottle" / "test"
    predicted = winclip_lit(
        tmp_path,
        "predict",
        *TINY,
        f"ckpt_path={checkpoint}",
        f"predict.input_dir={images}",
        f"hydra.run.dir={tmp_path / 'torch'}",
    )
    assert predicted.returncode == 0, predicted.stderr
    assert (
        f"at or above threshold {stored['image']:.6g} (pixel threshold {stored['pixel']:.6g}; conformal"
        in predicted.stderr
    )
    exported = winclip_lit(
        tmp_path, "export", *TINY, f"ckpt_path={checkpoint}", f"hydra.run.dir={tmp_path / 'export'}"
    )
    assert exported.returncode == 0, exported.stderr
    sidecar = json.loads((tmp_path / "export" / "bottle.onnx.json").read_text())
    assert sidecar["thresholds"] == stored
    onnx_run = winclip_lit(
        tmp_path,
        "predict",
        *TINY,
        "predict.backend=onnxruntime",
        f"predict.model={tmp_path / 'export' / 'bottle.onnx'}",
        f"predict.input_dir={images}",
        f"hydra.run.dir={tmp_path / 'onnx'}",
    )
    assert onnx_run.returncode == 0, onnx_run.stderr
    assert (
        f"at or above threshold {stored['image']:.6g} (pixel threshold {stored['pixel']:.6g}; conformal"
        in onnx_run.stderr
    )
    for backend in ("torch", "onnx"):
        rows = read_csv(tmp_path / backend / "scores.csv")
        assert len(rows) == 66
        for row in rows:
            assert row["anomalous"] == str(int(float(row["image_score"]) >= stored["image"]))
            mask = np.asarray(Image.open(tmp_path / backend / "masks" / row["overlay"]))
            assert (
                mask.shape == (32, 32) == Image.open(row["image"]).size[::-1]
            )  # the image's, not the map's 64
            assert set(np.unique(mask)) <= {0, 255}
            near = abs(float(row["max_pixel_score"]) - stored["pixel"]) < 1e-5  # 6 decimals in the CSV
            assert near or (mask.max() == 255) == (float(row["max_pixel_score"]) >= stored["pixel"])
    torch_flags = [r["anomalous"] for r in read_csv(tmp_path / "torch" / "scores.csv")]
    onnx_flags = [r["anomalous"] for r in read_csv(tmp_path / "onnx" / "scores.csv")]
    assert np.mean(np.array(torch_flags) == np.array(onnx_flags)) >= 0.97  # scores agree to 1e-4
    given = winclip_lit(
        tmp_path,
        "predict",
        *TINY,
        f"ckpt_path={checkpoint}",
        f"predict.input_dir={images}",
        "predict.threshold=0.99",
        f"hydra.run.dir={tmp_path / 'given'}",
    )
    assert given.returncode == 0 and "; predict.threshold=0.99)" in given.stderr


@pytest.mark.slow
def test_evaluate_with_a_checkpoint_reports_the_rates_at_its_stored_thresholds(
    many_normals: Path, conformal_checkpoint: Path, tmp_path: Path
) -> None:
    """evaluate ckpt_path=... judges the decision predict will make: the checkpoint's thresholds, unless the
    command line chooses another threshold."""
    data = [*TINY, f"dataset.root={many_normals}", "dataset.categories=[bottle]"]
    checkpoint = conformal_checkpoint
    stored = torch.load(checkpoint, weights_only=True)["thresholds"]["bottle"]
    evaluated = winclip_lit(
        tmp_path, "evaluate", *data, f"ckpt_path={checkpoint}", f"hydra.run.dir={tmp_path / 'evaluate'}"
    )
    assert evaluated.returncode == 0, evaluated.stderr
    result = json.loads((tmp_path / "evaluate" / "metrics.json").read_text())["categories"]["bottle"]
    assert result["image_threshold"] == pytest.approx(stored["image"], rel=1e-12)
    assert result["pixel_threshold"] == pytest.approx(stored["pixel"], rel=1e-12)
    rows = read_csv(tmp_path / "evaluate" / "scores" / "bottle.csv")
    labels = np.array([int(r["label"]) for r in rows])
    flagged = np.array([float(r["image_score"]) >= stored["image"] for r in rows]).astype(int)
    tn, fp, fn, tp = confusion_matrix(labels, flagged, labels=[0, 1]).ravel()
    assert result["image_fpr"] == pytest.approx(fp / (fp + tn), abs=1e-9)
    assert result["image_tpr"] == pytest.approx(tp / (tp + fn), abs=1e-9)
    fixed = winclip_lit(
        tmp_path,
        "evaluate",
        *data,
        f"ckpt_path={checkpoint}",
        "threshold=fixed",
        "threshold.value=0.25",
        f"hydra.run.dir={tmp_path / 'fixed'}",
    )
    assert fixed.returncode == 0, fixed.stderr
    result = json.loads((tmp_path / "fixed" / "metrics.json").read_text())["categories"]["bottle"]
    assert result["image_threshold"] == 0.25 and result["pixel_threshold"] == 0.25
