"""Parity on the paper backbone, ViT-B-16-plus-240 with random weights: one image, zero- and 2-shot,
ONNX Runtime and OpenVINO (each mode exported once)."""

from __future__ import annotations

import pytest
import torch
from deploy_support import PARITY, max_difference

from winclip_lit import WinCLIP
from winclip_lit.deploy.export import export_onnx
from winclip_lit.deploy.runtime import ExportedModel


@pytest.fixture(scope="module")
def vit_b():
    torch.manual_seed(0)
    return WinCLIP.from_pretrained("ViT-B-16-plus-240", None)


@pytest.mark.slow
@pytest.mark.parametrize("shots", [0, 2])
def test_paper_backbone_exports_equal_torch(vit_b, shots, tmp_path):
    size = vit_b.image_size
    torch.manual_seed(shots)
    image, references = torch.randn(1, 3, size, size), torch.randn(2, 3, size, size)
    vit_b.set_class_name("metal_nut")
    vit_b.set_reference_images(references if shots else None)
    with torch.no_grad():
        expected = vit_b(image)
    path = export_onnx(vit_b, tmp_path / "metal_nut.onnx")
    for backend in ("onnxruntime", "openvino"):
        out = ExportedModel(path, backend)(image.numpy())
        assert max_difference(out.image_scores, expected.image_scores.numpy()) < PARITY, backend
        assert max_difference(out.anomaly_maps, expected.anomaly_maps.numpy()) < PARITY, backend
