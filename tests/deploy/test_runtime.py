"""The PyTorch-free runtime: preprocessing equal to model.transform, folder scoring without torch, bad input."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import onnx
import pytest
import torch
from deploy_support import PARITY, REPO, TINY, make_config, max_difference, write_images
from onnx import TensorProto, helper
from PIL import Image

from winclip_lit.deploy.errors import DeployError
from winclip_lit.deploy.runtime import ExportedModel, preprocess
from winclip_lit.deploy.sidecar import read_sidecar, sidecar_path
from winclip_lit.engine.context import RunContext
from winclip_lit.engine.errors import ConfigError
from winclip_lit.tasks.predict_exported import predict_exported


def _pictures():
    rng = np.random.default_rng(0)
    rgb = Image.fromarray(rng.integers(0, 256, (77, 131, 3), dtype=np.uint8))
    return {
        "rgb": rgb,
        "rgba": Image.fromarray(rng.integers(0, 256, (50, 40, 4), dtype=np.uint8), "RGBA"),
        "gray": Image.fromarray(rng.integers(0, 256, (64, 64), dtype=np.uint8), "L"),
        "palette": rgb.convert("P"),
        "upscale": Image.fromarray(rng.integers(0, 256, (9, 13, 3), dtype=np.uint8)),
    }


@pytest.mark.parametrize("kind", ["rgb", "rgba", "gray", "palette", "upscale"])
def test_preprocess_equals_model_transform(zero_shot_onnx, kind):
    image = _pictures()[kind]
    info = read_sidecar(zero_shot_onnx.path)
    expected = zero_shot_onnx.model.transform(image).numpy()
    got = preprocess(image, info.preprocessing)
    assert got.dtype == np.float32 and got.shape == (3, 64, 64)
    assert max_difference(got, expected) < 1e-6


TORCH_FREE_RUN = textwrap.dedent(
    """
    import sys
    sys.modules["torch"] = None  # any `import torch` now raises ImportError
    from winclip_lit.tasks.predict_exported import predict_folder
    model, images, out = sys.argv[1:4]
    for backend in ("onnxruntime", "openvino"):
        predict_folder(model, images, f"{out}/{backend}", backend=backend, batch_size=2, threshold=0.5)
    assert sys.modules["torch"] is None
    print(sorted(name for name in sys.modules if name.split(".")[0] in ("lightning", "open_clip", "torchvision")))
    """
)


def test_predict_folder_runs_without_torch(two_shot_onnx, tmp_path):
    files = write_images(tmp_path / "images", 5, seed=1)
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            TORCH_FREE_RUN,
            str(two_shot_onnx.path),
            str(tmp_path / "images"),
            str(tmp_path),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip() == "[]"
    model = two_shot_onnx.model  # still the 2-shot setup of the exported file
    with torch.no_grad():
        expected = model(torch.stack([model.transform(Image.open(f)) for f in files]))
    for backend in ("onnxruntime", "openvino"):
        with (tmp_path / backend / "scores.csv").open() as handle:
            rows = list(csv.DictReader(handle))
        assert list(rows[0]) == ["image", "image_score", "max_pixel_score", "anomalous", "overlay"]
        assert [r["image"] for r in rows] == [str(f) for f in files]
        scores = np.array([float(r["image_score"]) for r in rows])
        peaks = np.array([float(r["max_pixel_score"]) for r in rows])
        assert max_difference(scores, expected.image_scores.numpy()) < PARITY + 1e-6  # CSV keeps 6 decimals
        assert max_difference(peaks, expected.anomaly_maps.amax(dim=(1, 2)).numpy()) < PARITY + 1e-6
        assert [int(r["anomalous"]) for r in rows] == [int(s >= 0.5) for s in scores]
        for row in rows:
            overlay = np.asarray(Image.open(tmp_path / backend / "overlays" / row["overlay"]))
            assert overlay.shape == (64, 128, 3)  # [image | overlay] at the model's 64 px


def test_wrong_image_size_is_one_line(zero_shot_onnx):
    model = ExportedModel(zero_shot_onnx.path)
    with pytest.raises(DeployError, match=r"takes \(N, 3, 64, 64\) images .* got shape \(2, 3, 32, 32\)"):
        model(np.zeros((2, 3, 32, 32), dtype=np.float32))
    with pytest.raises(DeployError, match="got shape"):
        model(np.zeros((3, 64, 64), dtype=np.float32))


def test_file_without_sidecar_is_refused(zero_shot_onnx, tmp_path):
    bare = tmp_path / "model.onnx"
    shutil.copy(zero_shot_onnx.path, bare)
    with pytest.raises(DeployError, match="not a winclip-lit export: its sidecar model.onnx.json is missing"):
        ExportedModel(bare)
    with pytest.raises(DeployError, match="does not exist"):
        ExportedModel(tmp_path / "missing.onnx")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "unreadable"),
        (json.dumps({"format": "something-else"}), "not a winclip-lit export sidecar"),
        (json.dumps({"format": "winclip-lit/export-1", "file_format": "onnx"}), "incomplete"),
    ],
)
def test_invalid_sidecar_is_refused(zero_shot_onnx, tmp_path, content, message):
    copy = tmp_path / "model.onnx"
    shutil.copy(zero_shot_onnx.path, copy)
    sidecar_path(copy).write_text(content)
    with pytest.raises(DeployError, match=message):
        ExportedModel(copy)


def test_foreign_graph_with_a_sidecar_is_refused(zero_shot_onnx, tmp_path):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])
    foreign = helper.make_model(
        helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "g", [x], [y])
    )
    path = tmp_path / "foreign.onnx"
    onnx.save(foreign, str(path))
    shutil.copy(sidecar_path(zero_shot_onnx.path), sidecar_path(path))
    for backend in ("onnxruntime", "openvino"):
        with pytest.raises(DeployError, match="is not a winclip-lit graph"):
            ExportedModel(path, backend)
    path.write_bytes(b"not a protobuf")
    with pytest.raises(DeployError, match="onnxruntime cannot load"):
        ExportedModel(path, "onnxruntime")


def test_backend_choice_is_checked(zero_shot_onnx, tmp_path, monkeypatch):
    with pytest.raises(DeployError, match="backend 'tensorrt' is unknown"):
        ExportedModel(zero_shot_onnx.path, "tensorrt")
    xml = tmp_path / "model.xml"
    xml.write_text("<net/>")
    data = json.loads(sidecar_path(zero_shot_onnx.path).read_text())
    sidecar_path(xml).write_text(json.dumps({**data, "file_format": "openvino"}))
    with pytest.raises(DeployError, match="is an OpenVINO export; run it with backend=openvino"):
        ExportedModel(xml, "onnxruntime")
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(
        DeployError, match=r'backend onnxruntime is not installed: pip install "winclip-lit\[export\]"'
    ):
        ExportedModel(zero_shot_onnx.path, "onnxruntime")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"shots": "two"}, "invalid winclip-lit export sidecar"),
        ({"file_format": "tflite"}, "invalid winclip-lit export sidecar"),
        ({"preprocessing": {"resize": "bilinear"}}, "knows RGB \\+ bicubic only"),
    ],
)
def test_sidecar_with_a_bad_value_is_refused(zero_shot_onnx, tmp_path, change, message):
    copy = tmp_path / "model.onnx"
    shutil.copy(zero_shot_onnx.path, copy)
    data = json.loads(sidecar_path(zero_shot_onnx.path).read_text())
    for key, value in change.items():
        data[key] = {**data[key], **value} if isinstance(value, dict) else value
    sidecar_path(copy).write_text(json.dumps(data))
    with pytest.raises(DeployError, match=message):
        ExportedModel(copy)


def test_predict_config_keys_select_the_exported_path(zero_shot_onnx, tmp_path):
    write_images(tmp_path / "images", 3, seed=2)
    run = RunContext(tmp_path / "run", "predict")
    base = [*TINY, f"predict.input_dir={tmp_path / 'images'}"]
    assert make_config(*TINY).predict.backend == "torch" and make_config(*TINY).predict.model is None
    with pytest.raises(
        ConfigError, match="predict.backend=onnxruntime needs an exported file: pass predict.model="
    ):
        predict_exported(make_config(*base, "predict.backend=onnxruntime"), run)
    with pytest.raises(ConfigError, match="predict.backend=tflite is unknown"):
        predict_exported(
            make_config(*base, "predict.backend=tflite", f"predict.model={zero_shot_onnx.path}"), run
        )
    cfg = make_config(
        *base, "predict.backend=openvino", f"predict.model={zero_shot_onnx.path}", "loader.batch_size=2"
    )
    scores_file = predict_exported(cfg, run)
    assert scores_file == tmp_path / "run" / "scores.csv"
    with scores_file.open() as handle:
        assert len(list(csv.DictReader(handle))) == 3


def test_predict_task_scores_with_an_exported_file(zero_shot_onnx, tmp_path):
    """`winclip-lit predict predict.backend=onnxruntime predict.model=<file>` goes through the exported path."""
    from winclip_lit.tasks.predict import predict

    write_images(tmp_path / "images", 2, seed=5)
    cfg = make_config(
        *TINY,
        f"predict.input_dir={tmp_path / 'images'}",
        "predict.backend=onnxruntime",
        f"predict.model={zero_shot_onnx.path}",
    )
    scores_file = predict(cfg, RunContext(tmp_path / "run", "predict"))
    with scores_file.open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 2 and all(0.0 <= float(r["image_score"]) <= 1.0 for r in rows)


@pytest.mark.parametrize("backend", ["onnxruntime", "openvino"])
def test_sidecar_image_size_must_be_the_graphs(zero_shot_onnx, tmp_path, backend):
    """Before: a sidecar saying 32 px for a 64 px graph loaded, and scoring ended in a runtime traceback."""
    copy = tmp_path / "model.onnx"
    shutil.copy(zero_shot_onnx.path, copy)
    data = json.loads(sidecar_path(zero_shot_onnx.path).read_text())
    data["preprocessing"]["image_size"] = 32
    sidecar_path(copy).write_text(json.dumps(data))
    with pytest.raises(
        DeployError, match=r"says image_size 32 but the graph model.onnx takes 64 x 64 images"
    ):
        ExportedModel(copy, backend)


def test_predict_folder_skips_unreadable_files_and_reads_subfolders(zero_shot_onnx, tmp_path):
    from winclip_lit.engine.errors import PartialResultError
    from winclip_lit.tasks.predict_exported import predict_folder

    files = write_images(tmp_path / "images" / "sub", 2, seed=4)
    (tmp_path / "images" / "bad.png").write_bytes(b"not an image")
    lines = []
    with pytest.raises(PartialResultError, match=r"^1 unreadable image\(s\) skipped"):
        predict_folder(
            zero_shot_onnx.path, tmp_path / "images", tmp_path / "out", batch_size=4, say=lines.append
        )
    with (tmp_path / "out" / "scores.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [r["image"] for r in rows] == [str(f) for f in files]
    assert [r["overlay"] for r in rows] == ["sub/00_png.png", "sub/01_png.png"]
    assert (tmp_path / "out" / "skipped.txt").read_text() == f"{tmp_path / 'images' / 'bad.png'}\n"
    assert lines[0].startswith("2 images scored with ") and lines[1].startswith(f"skipped {tmp_path}")
