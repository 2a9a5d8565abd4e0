"""Calibrated thresholds in the export sidecar (old sidecars stay loadable) and predict's choice of threshold."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from winclip_lit.deploy.errors import DeployError
from winclip_lit.deploy.sidecar import (
    ExportInfo,
    Preprocessing,
    attach_thresholds,
    read_sidecar,
    write_sidecar,
)
from winclip_lit.reporting.predictions import choose_thresholds

THRESHOLDS = {"method": "conformal", "image": 0.61, "pixel": 0.72, "alpha": 0.01, "num_calibration": 100}


def _export(tmp_path: Path) -> Path:
    model = tmp_path / "bottle.onnx"
    model.write_bytes(b"graph")
    info = ExportInfo("onnx", "bottle", "bottle", 0, "m", None, "fp", Preprocessing(64, (0, 0, 0), (1, 1, 1)))
    write_sidecar(model, info)
    return model


def test_old_sidecars_load_and_thresholds_round_trip(tmp_path: Path) -> None:
    model = _export(tmp_path)
    sidecar = model.with_name("bottle.onnx.json")
    data = json.loads(sidecar.read_text())
    del data["thresholds"]  # a sidecar written before thresholds existed
    sidecar.write_text(json.dumps(data))
    assert read_sidecar(model).thresholds is None
    attach_thresholds(model, THRESHOLDS)
    assert read_sidecar(model).thresholds == THRESHOLDS
    data = json.loads(sidecar.read_text())
    data["thresholds"] = {"image": "high"}
    sidecar.write_text(json.dumps(data))
    with pytest.raises(DeployError, match="invalid thresholds"):
        read_sidecar(model)


def test_predict_threshold_wins_then_the_calibrated_one_then_half() -> None:
    given = choose_thresholds(0.3, THRESHOLDS, "checkpoint c.pt")
    assert (given.image, given.pixel) == (0.3, 0.3) and "predict.threshold=0.3" in given.source
    stored = choose_thresholds(None, THRESHOLDS, "checkpoint c.pt")
    assert (stored.image, stored.pixel) == (0.61, 0.72)
    assert stored.source == "conformal, alpha 0.01 on 100 normal images, from checkpoint c.pt"
    image_only = choose_thresholds(None, {"method": "f1", "image": 0.4, "pixel": None}, "x")
    assert (image_only.image, image_only.pixel) == (0.4, 0.4)
    default = choose_thresholds(None, None, "checkpoint c.pt")
    assert (default.image, default.pixel) == (0.5, 0.5) and "no calibrated threshold" in default.source
