"""Deployment: exported WinCLIP / WinCLIP+ graphs (ONNX, OpenVINO) and a runtime without PyTorch.

Nothing here imports torch: the runtime (:mod:`winclip_lit.deploy.runtime`) needs only numpy, Pillow and
ONNX Runtime or OpenVINO. The graphs are written by ``WinCLIP.export_onnx`` / ``WinCLIP.export_openvino``
(:mod:`winclip_lit.model.export`). See docs/deploy.md.
"""
