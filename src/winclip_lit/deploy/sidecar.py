"""The JSON sidecar of an exported graph: what it computes and how its input images are prepared.

``<file>.json`` next to ``<file>`` (``bottle.onnx`` -> ``bottle.onnx.json``, ``bottle.xml`` ->
``bottle.xml.json``) records the backbone, weights and feature fingerprint, the category and its class name,
the number of reference shots, the preprocessing (size, mean, std, resize rule), the winclip-lit version and,
when exported from a checkpoint with calibrated thresholds, those thresholds (``thresholds``, optional).
A file without a valid sidecar is not one of our exports.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from winclip_lit.deploy.errors import DeployError

SIDECAR_FORMAT = "winclip-lit/export-1"
INPUT_NAME = "images"
OUTPUT_NAMES = ("image_scores", "anomaly_maps")
FILE_FORMATS = ("onnx", "openvino")
SUFFIXES = {"onnx": ".onnx", "openvino": ".xml"}
DEFAULT_OPSET = 20
OPSETS = range(18, 26)
"""ONNX opsets an export may ask for: torch's exporter builds opset 18 and converts up (to 25 tested with
ONNX Runtime and OpenVINO); it cannot go below 18 and leaves such graphs at 18."""


@dataclass(frozen=True)
class Preprocessing:
    """How an image becomes the graph's input (the model's ``ImageTransform``, docs/algorithm.md section 1).

    Attributes:
        image_size: Side S of the square input in pixels.
        mean: Per-channel normalisation mean (RGB).
        std: Per-channel normalisation std (RGB).
        resize: ``bicubic``: PIL bicubic (antialiased) resize of the whole image to S x S, no crop.
        color: ``RGB``: images are converted to RGB first.
    """

    image_size: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    resize: str = "bicubic"
    color: str = "RGB"


@dataclass(frozen=True)
class ExportInfo:
    """Contents of a sidecar.

    Attributes:
        file_format: ``onnx`` or ``openvino``.
        category: Category the text embeddings (and references) were built for.
        class_name: Object name in the prompts.
        shots: Number of normal reference images in the graph (0: zero-shot WinCLIP).
        model_name: open_clip backbone name.
        pretrained: Weights tag or file (None: random weights).
        feature_fingerprint: ``WinCLIP.feature_fingerprint()`` of the exported model.
        preprocessing: How to prepare input images.
        int8: None (fp32), ``onnxruntime-dynamic`` or ``openvino-weights`` (see docs/deploy.md).
        opset: ONNX opset of the exported graph.
        options: Scoring options of the model (scales, stride, temperature, ...), for the record.
        version: winclip-lit version that wrote the file.
        thresholds: Calibrated decision thresholds of the category (``{"method", "image", "pixel", ...}``,
            docs/thresholds.md), or None; predict applies them unless ``predict.threshold`` is given.
    """

    file_format: str
    category: str | None
    class_name: str
    shots: int
    model_name: str | None
    pretrained: str | None
    feature_fingerprint: str
    preprocessing: Preprocessing
    int8: str | None = None
    opset: int | None = None
    options: dict[str, Any] = field(default_factory=dict)
    version: str = ""
    thresholds: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict, with the format tag and the graph's input and output names."""
        data = asdict(self)
        data["preprocessing"]["mean"] = list(self.preprocessing.mean)
        data["preprocessing"]["std"] = list(self.preprocessing.std)
        size = self.preprocessing.image_size
        return {
            "format": SIDECAR_FORMAT,
            **data,
            "input": {"name": INPUT_NAME, "shape": ["batch", 3, size, size], "dtype": "float32"},
            "outputs": {OUTPUT_NAMES[0]: ["batch"], OUTPUT_NAMES[1]: ["batch", size, size]},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str) -> ExportInfo:
        """Validate and read a sidecar's dict; ``where`` names the file in error messages."""
        if not isinstance(data, dict) or data.get("format") != SIDECAR_FORMAT:
            found = data.get("format") if isinstance(data, dict) else type(data).__name__
            raise DeployError(
                f"{where} is not a winclip-lit export sidecar (format {found!r}, expected {SIDECAR_FORMAT!r})"
            )
        try:
            pre = data["preprocessing"]
            preprocessing = Preprocessing(
                image_size=int(pre["image_size"]),
                mean=tuple(float(v) for v in pre["mean"]),
                std=tuple(float(v) for v in pre["std"]),
                resize=str(pre["resize"]),
                color=str(pre["color"]),
            )
            info = cls(
                file_format=str(data["file_format"]),
                category=data["category"],
                class_name=str(data["class_name"]),
                shots=int(data["shots"]),
                model_name=data["model_name"],
                pretrained=data["pretrained"],
                feature_fingerprint=str(data["feature_fingerprint"]),
                preprocessing=preprocessing,
                int8=data.get("int8"),
                opset=data.get("opset"),
                options=dict(data.get("options") or {}),
                version=str(data.get("version", "")),
                thresholds=_thresholds(data.get("thresholds"), where),
            )
        except KeyError as error:
            raise DeployError(f"{where} is an incomplete winclip-lit export sidecar (no {error})") from error
        except (TypeError, ValueError) as error:
            raise DeployError(f"{where} is an invalid winclip-lit export sidecar ({error})") from error
        if (
            info.file_format not in FILE_FORMATS
            or len(preprocessing.mean) != 3
            or len(preprocessing.std) != 3
        ):
            raise DeployError(f"{where} is an invalid winclip-lit export sidecar (format or mean/std)")
        if preprocessing.resize != "bicubic" or preprocessing.color != "RGB":
            raise DeployError(
                f"{where} asks for {preprocessing.color} images resized with {preprocessing.resize!r}; "
                "this winclip-lit knows RGB + bicubic only: update winclip-lit"
            )
        return info


def _thresholds(value: Any, where: str) -> dict[str, Any] | None:
    """A sidecar's optional ``thresholds`` (absent in older sidecars): a dict with a numeric ``image``."""
    if value is None:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("image"), (int, float)):
        raise DeployError(
            f"{where} has invalid thresholds {value!r}; re-export it with `winclip-lit export ...`"
        )
    return dict(value)


def sidecar_path(model_file: str | Path) -> Path:
    """``<file>.json`` for ``<file>``."""
    model_file = Path(model_file)
    return model_file.with_name(model_file.name + ".json")


def write_json_atomic(path: Path, data: dict[str, Any]) -> Path:
    """Write ``data`` as indented JSON through a temporary file and ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        partial.write_text(json.dumps(data, indent=2) + "\n")
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path


def write_sidecar(model_file: str | Path, info: ExportInfo) -> Path:
    """Write the sidecar of ``model_file`` (atomically); returns its path."""
    return write_json_atomic(sidecar_path(model_file), info.to_dict())


def read_sidecar(model_file: str | Path) -> ExportInfo:
    """Read and validate the sidecar of an exported file.

    Raises:
        DeployError: The file or its sidecar is missing, or the sidecar is not one of ours.
    """
    model_file = Path(model_file).expanduser()
    if not model_file.is_file():
        raise DeployError(
            f"exported model {model_file} does not exist; write one with `winclip-lit export ...` "
            "or export_onnx(model, path) from winclip_lit.deploy"
        )
    sidecar = sidecar_path(model_file)
    if not sidecar.is_file():
        raise DeployError(
            f"{model_file} is not a winclip-lit export: its sidecar {sidecar.name} is missing "
            "(export with `winclip-lit export ...` or export_onnx(model, path) from winclip_lit.deploy)"
        )
    try:
        data = json.loads(sidecar.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DeployError(
            f"{model_file} is not a winclip-lit export: {sidecar.name} is unreadable ({error})"
        ) from error
    info = ExportInfo.from_dict(data, str(sidecar))
    expected = SUFFIXES[info.file_format]
    if model_file.suffix.lower() != expected:
        raise DeployError(
            f"{model_file}: its sidecar describes an {info.file_format} export ({expected} file); "
            "pass the file the sidecar belongs to"
        )
    return info


def attach_thresholds(model_file: str | Path, thresholds: dict[str, Any] | None) -> Path:
    """Record a category's calibrated thresholds in the sidecar of ``model_file`` (atomically)."""
    from dataclasses import replace

    return write_sidecar(model_file, replace(read_sidecar(model_file), thresholds=thresholds))
