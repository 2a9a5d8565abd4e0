"""Deployment: export WinCLIP / WinCLIP+ as one graph (ONNX, OpenVINO) and run it without PyTorch.

``export_onnx(model, path)`` / ``export_openvino(model, path)`` (:mod:`winclip_lit.deploy.export`) write a
model's current category as a graph plus its JSON sidecar; :class:`ExportedModel`
(:mod:`winclip_lit.deploy.runtime`) runs it with ONNX Runtime or OpenVINO and needs only numpy and Pillow.
Names load lazily, so the runtime never imports torch. See docs/deploy.md.
"""

from __future__ import annotations

from winclip_lit.lazy import lazy_exports

_EXPORTS = {
    "export_onnx": "winclip_lit.deploy.export",
    "export_openvino": "winclip_lit.deploy.export",
    "ExportedModel": "winclip_lit.deploy.runtime",
    "ExportedOutput": "winclip_lit.deploy.runtime",
    "DeployError": "winclip_lit.deploy.errors",
}

__getattr__, __dir__, __all__ = lazy_exports(__name__, _EXPORTS)
