"""Export refuses, in one line, what it cannot do: no category set, a wrong suffix, a missing extra."""

from __future__ import annotations

import subprocess
import sys

import pytest

from winclip_lit.deploy.export import export_onnx, export_openvino
from winclip_lit.model.errors import ExportError, WinCLIPError


def test_export_without_a_class_name_is_refused(winclip, tmp_path):
    with pytest.raises(ExportError, match=r"call model.set_class_name\(category\)"):
        export_onnx(winclip, tmp_path / "model.onnx")
    with pytest.raises(ExportError, match=r"call model.set_class_name\(category\)"):
        export_openvino(winclip, tmp_path / "model.xml")
    assert not list(tmp_path.iterdir())


def test_export_path_suffix_must_match_the_format(winclip, tmp_path):
    winclip.set_class_name("screw")
    with pytest.raises(ExportError, match=r"must end in \.onnx"):
        export_onnx(winclip, tmp_path / "model.xml")
    with pytest.raises(ExportError, match=r"must end in \.xml"):
        export_openvino(winclip, tmp_path / "model.onnx")


@pytest.mark.parametrize("missing", ["onnx", "onnxscript", "openvino"])
def test_missing_extra_names_the_pip_command(winclip, tmp_path, monkeypatch, missing):
    winclip.set_class_name("screw")
    monkeypatch.setitem(sys.modules, missing, None)  # `import <missing>` raises ImportError
    with pytest.raises(ExportError) as info:
        if missing == "openvino":
            export_openvino(winclip, tmp_path / "model.xml")
        else:
            export_onnx(winclip, tmp_path / "model.onnx")
    message = str(info.value)
    assert "\n" not in message and isinstance(info.value, WinCLIPError)
    assert f"exporting needs {missing}" in message and 'pip install "winclip-lit[export]"' in message


def test_model_import_does_not_import_the_exporters():
    code = (
        "import sys; import winclip_lit.model; "
        "print(sorted({'onnx', 'onnxscript', 'onnxruntime', 'openvino'} & set(sys.modules)))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "[]"
