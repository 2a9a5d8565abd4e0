"""Export one deployable graph per category (ONNX or OpenVINO IR) with its JSON sidecar (`winclip-lit export`).

`python export.py ckpt_path=<train run>/checkpoint.pt export.format=onnx|openvino`; see docs/deploy.md."""

from winclip_lit.cli import script

if __name__ == "__main__":
    script("export")
