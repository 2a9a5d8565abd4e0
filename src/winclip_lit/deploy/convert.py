"""ONNX -> OpenVINO IR (``.xml`` + ``.bin``), weights kept at their precision (no fp16 compression)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def onnx_to_openvino(source: Path, target: Path) -> Path:
    """Convert an ONNX file to OpenVINO IR at ``target`` (``.xml``; the ``.bin`` beside it).

    Weights stay fp32 (or int8 where the ONNX graph dequantizes int8 weights): ``openvino.save_model``
    would otherwise halve them to fp16, which moves the maps by up to ~0.06 on random weights.
    Both files are written under temporary names and renamed into place.
    """
    import openvino as ov

    model = ov.convert_model(str(source))
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        staged = Path(tmp) / "model.xml"
        ov.save_model(model, str(staged), compress_to_fp16=False)
        del model
        os.replace(staged.with_suffix(".bin"), target.with_suffix(".bin"))
        os.replace(staged, target)
    return target
