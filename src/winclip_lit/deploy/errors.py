"""Errors of the deployment layer (exported files and the PyTorch-free runtime), one line each."""

from __future__ import annotations


class DeployError(ValueError):
    """An exported model file, its sidecar, its runtime or its input is unusable; the message says what to do."""


EXTRA_HINT = 'pip install "winclip-lit[export]"'
"""How to install the optional export and runtime dependencies (onnx, onnxruntime, onnxscript, openvino)."""
