"""Fixtures of the deployment tests: a tiny model, its 0- and 2-shot ONNX exports, built once per session."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch

from winclip_lit import TINY_MODEL_NAME, WinCLIP
from winclip_lit.deploy.export import export_onnx


@dataclass
class Exported:
    """A tiny model set up for one mode, its ONNX export and its PyTorch outputs on ``images``.

    The model object is shared by the modes: only ``path``, ``scores`` and ``maps`` belong to this one.
    """

    model: WinCLIP
    path: Path
    images: torch.Tensor
    scores: np.ndarray
    maps: np.ndarray


@pytest.fixture(scope="session")
def tiny_export_model() -> WinCLIP:
    """A tiny random WinCLIP of its own (the shared one is reset by other tests)."""
    torch.manual_seed(0)
    return WinCLIP.from_pretrained(TINY_MODEL_NAME, None)


@pytest.fixture(scope="session")
def batch() -> torch.Tensor:
    """Three normalised 64 px images."""
    torch.manual_seed(11)
    return torch.randn(3, 3, 64, 64)


def _export(model: WinCLIP, folder: Path, shots: int, images: torch.Tensor) -> Exported:
    model.set_class_name("screw")
    torch.manual_seed(5)
    model.set_reference_images(torch.randn(shots, 3, 64, 64) if shots else None)
    path = export_onnx(model, folder / f"screw_{shots}shot.onnx")
    out = model(images)
    return Exported(model, path, images, out.image_scores.numpy(), out.anomaly_maps.numpy())


@pytest.fixture(scope="session")
def zero_shot_onnx(tiny_export_model, batch, tmp_path_factory) -> Exported:
    """The tiny model, zero-shot, exported to ONNX."""
    return _export(tiny_export_model, tmp_path_factory.mktemp("zero"), 0, batch)


@pytest.fixture(scope="session")
def two_shot_onnx(tiny_export_model, batch, tmp_path_factory, zero_shot_onnx) -> Exported:
    """The tiny model, 2-shot (WinCLIP+), exported to ONNX (after the zero-shot export: same model)."""
    return _export(tiny_export_model, tmp_path_factory.mktemp("two"), 2, batch)
