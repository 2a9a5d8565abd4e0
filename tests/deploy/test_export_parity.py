"""Exported graphs (ONNX Runtime, OpenVINO) equal the PyTorch model: tiny backbone, zero- and 2-shot."""

from __future__ import annotations

import json
from collections import Counter

import onnx
import pytest
import torch
from deploy_support import PARITY, max_difference

from winclip_lit import WinCLIP, __version__
from winclip_lit.deploy.export import export_onnx, export_openvino
from winclip_lit.deploy.runtime import ExportedModel
from winclip_lit.deploy.sidecar import read_sidecar, sidecar_path

BACKENDS = ("onnxruntime", "openvino")


@pytest.fixture(params=["zero", "two"])
def exported(request, zero_shot_onnx, two_shot_onnx):
    return zero_shot_onnx if request.param == "zero" else two_shot_onnx


@pytest.mark.parametrize("backend", BACKENDS)
def test_exported_onnx_equals_torch_at_any_batch(exported, backend):
    """Traced at batch 2; run at 3 and at 1."""
    model = ExportedModel(exported.path, backend)
    for rows in (slice(0, 3), slice(2, 3)):
        out = model(exported.images[rows].numpy())
        assert max_difference(out.image_scores, exported.scores[rows]) < PARITY
        assert max_difference(out.anomaly_maps, exported.maps[rows]) < PARITY


@pytest.mark.slow
def test_openvino_ir_equals_torch(tiny_export_model, batch, two_shot_onnx, tmp_path):
    model = tiny_export_model
    assert len(model.reference) == 2  # still set up as for the 2-shot ONNX file
    path = export_openvino(model, tmp_path / "screw.xml")
    assert path.with_suffix(".bin").is_file()
    assert read_sidecar(path).file_format == "openvino"
    out = ExportedModel(path)(batch.numpy())  # .xml -> openvino
    assert max_difference(out.image_scores, two_shot_onnx.scores) < PARITY
    assert max_difference(out.anomaly_maps, two_shot_onnx.maps) < PARITY


def test_sidecar_records_model_category_and_preprocessing(exported):
    model = exported.model
    data = json.loads(sidecar_path(exported.path).read_text())
    shots = 2 if "2shot" in exported.path.name else 0
    assert data["format"] == "winclip-lit/export-1" and data["file_format"] == "onnx"
    assert (data["category"], data["class_name"], data["shots"]) == ("screw", "screw", shots)
    assert data["model_name"] == "winclip-tiny-vit" and data["pretrained"] is None
    assert data["feature_fingerprint"] == model.feature_fingerprint()
    assert data["preprocessing"] == {
        "image_size": 64,
        "mean": list(model.transform.mean),
        "std": list(model.transform.std),
        "resize": "bicubic",
        "color": "RGB",
    }
    assert data["version"] == __version__ and data["int8"] is None and data["opset"] == 20
    assert data["input"] == {"name": "images", "shape": ["batch", 3, 64, 64], "dtype": "float32"}


def test_graph_inputs_outputs_and_dynamic_batch(exported):
    graph = onnx.load(str(exported.path)).graph
    dims = lambda value: [d.dim_param or d.dim_value for d in value.type.tensor_type.shape.dim]  # noqa: E731
    (images,) = graph.input
    scores, maps = graph.output
    assert images.name == "images" and isinstance(dims(images)[0], str) and dims(images)[1:] == [3, 64, 64]
    assert scores.name == "image_scores" and len(dims(scores)) == 1
    assert maps.name == "anomaly_maps" and dims(maps)[1:] == [64, 64]
    assert dims(scores)[0] == dims(maps)[0] == dims(images)[0]


COMPUTE_OPS = (
    "MatMul",
    "Gemm",
    "Softmax",
    "LayerNormalization",
    "Gelu",
    "Gather",
    "GatherND",
    "Conv",
    "Resize",
)


def test_window_count_does_not_change_the_graph(zero_shot_onnx, tmp_path):
    """Windows are gathered by one indexing op, not unrolled: stride 2 (32 windows per image instead of
    85) gives the same compute operators (an unrolled loop would add ~50 windows' worth), smaller constants."""
    base = zero_shot_onnx.model
    strided = WinCLIP(base.clip, base.tokenizer, stride=2, model_name=base.model_name)
    strided.set_class_name("screw")
    path = export_onnx(strided, tmp_path / "strided.onnx")
    nodes = lambda p: onnx.load(str(p)).graph.node  # noqa: E731
    compute = lambda p: Counter(n.op_type for n in nodes(p) if n.op_type in COMPUTE_OPS)  # noqa: E731
    assert compute(path) == compute(zero_shot_onnx.path)
    assert (
        abs(len(nodes(path)) - len(nodes(zero_shot_onnx.path))) < 10
    )  # shape bookkeeping may fold differently
    with torch.no_grad():
        expected = strided(zero_shot_onnx.images)
    out = ExportedModel(path)(zero_shot_onnx.images.numpy())
    assert max_difference(out.anomaly_maps, expected.anomaly_maps.numpy()) < PARITY


def test_smoothed_maps_export_equal_torch(zero_shot_onnx, tmp_path):
    """Gaussian smoothing of the maps (reflect padding, separable convolution) is in the graph too."""
    base = zero_shot_onnx.model
    smoothed = WinCLIP(base.clip, base.tokenizer, smoothing_sigma=1.5, model_name=base.model_name)
    smoothed.set_class_name("screw")
    path = export_onnx(smoothed, tmp_path / "smoothed.onnx")
    with torch.no_grad():
        expected = smoothed(zero_shot_onnx.images)
    for backend in BACKENDS:
        out = ExportedModel(path, backend)(zero_shot_onnx.images.numpy())
        assert max_difference(out.image_scores, expected.image_scores.numpy()) < PARITY
        assert max_difference(out.anomaly_maps, expected.anomaly_maps.numpy()) < PARITY
    unsmoothed = ExportedModel(zero_shot_onnx.path)(zero_shot_onnx.images.numpy()).anomaly_maps
    assert max_difference(out.anomaly_maps, unsmoothed) > 1e-3  # the smoothing did something
