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


@pytest.mark.parametrize("opset", [5, 17, 26])
def test_opset_out_of_range_is_refused_before_tracing(winclip, tmp_path, opset):
    """Before: opset=5 was accepted, the exporter wrote opset 18 and the sidecar said 5."""
    winclip.set_class_name("screw")
    with pytest.raises(ExportError, match=rf"^opset={opset} is out of range: .* from 18 to 25$"):
        export_onnx(winclip, tmp_path / "model.onnx", opset=opset)
    assert not list(tmp_path.iterdir())


def test_an_opset_the_exporter_did_not_write_is_refused(winclip, tmp_path, monkeypatch):
    """The exporter falls back to opset 18 silently when it cannot convert: no file, no wrong sidecar."""
    import winclip_lit.deploy.export as export_module

    winclip.set_class_name("screw")
    monkeypatch.setattr(export_module, "graph_opset", lambda path: 18)  # as its silent fallback does
    with pytest.raises(ExportError, match=r"opset=21 was asked, but the exporter wrote an opset 18 graph"):
        export_onnx(winclip, tmp_path / "model.onnx", opset=21)
    assert not list(tmp_path.glob("model.onnx*"))
