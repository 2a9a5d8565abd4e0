"""int8 exports: image-tower linear layers quantised, scoring left in fp32, close to the fp32 model."""

from __future__ import annotations

from collections import Counter

import onnx
import pytest
from deploy_support import max_difference

from winclip_lit.deploy.export import ENCODER_SCOPE, export_onnx, export_openvino
from winclip_lit.deploy.runtime import ExportedModel
from winclip_lit.deploy.sidecar import read_sidecar

INT8_BOUND = 0.01
"""int8 weights move the tiny random model's scores and maps by ~5e-4; 20x margin."""


pytestmark = pytest.mark.slow


def _namespace(node) -> str:
    return next((p.value for p in node.metadata_props if p.key == "namespace"), "")


def _ops(path, inside: bool) -> Counter:
    return Counter(
        node.op_type
        for node in onnx.load(str(path)).graph.node
        if (ENCODER_SCOPE in _namespace(node)) == inside
    )


def test_onnxruntime_int8_quantises_only_the_image_tower(tiny_export_model, two_shot_onnx, tmp_path):
    path = export_onnx(tiny_export_model, tmp_path / "screw.onnx", int8=True)
    assert read_sidecar(path).int8 == "onnxruntime-dynamic"
    fp32 = onnx.load(str(two_shot_onnx.path)).graph
    int8 = onnx.load(str(path)).graph
    # Linear layers of the tiny tower (2 blocks): the full pass runs qkv, out, fc and proj in each block (8);
    # each of the 2 window scales runs those 4 in block 0 and q, kv, out, fc, proj in the class-token-only
    # last block (2 x 9); ln_post + proj for the image and the 2 window scales (3). Attention products stay float.
    assert sum(node.op_type == "MatMulInteger" for node in int8.node) == 8 + 2 * 9 + 3
    # the scoring (text, harmonic aggregation, association) keeps its float MatMuls, untouched
    assert _ops(path, inside=False)["MatMul"] == _ops(two_shot_onnx.path, inside=False)["MatMul"] > 0
    assert sum(node.op_type == "MatMul" for node in fp32.node) == sum(
        node.op_type == "MatMul" for node in int8.node
    ) + (8 + 2 * 9 + 3)
    out = ExportedModel(path, "onnxruntime")(two_shot_onnx.images.numpy())
    assert 0 < max_difference(out.image_scores, two_shot_onnx.scores) < INT8_BOUND
    assert 0 < max_difference(out.anomaly_maps, two_shot_onnx.maps) < INT8_BOUND


def test_openvino_int8_weights_are_smaller_and_close(tiny_export_model, two_shot_onnx, tmp_path):
    fp32 = export_openvino(tiny_export_model, tmp_path / "fp32.xml")
    int8 = export_openvino(tiny_export_model, tmp_path / "int8.xml", int8=True)
    assert read_sidecar(int8).int8 == "openvino-weights"
    # the linear weights are most of the tiny tower's bytes: int8 takes a quarter of their fp32 size
    assert int8.with_suffix(".bin").stat().st_size < 0.6 * fp32.with_suffix(".bin").stat().st_size
    out = ExportedModel(int8)(two_shot_onnx.images.numpy())
    assert 0 < max_difference(out.image_scores, two_shot_onnx.scores) < INT8_BOUND
    assert 0 < max_difference(out.anomaly_maps, two_shot_onnx.maps) < INT8_BOUND
