"""Run an exported WinCLIP / WinCLIP+ graph with ONNX Runtime or OpenVINO, without PyTorch.

Images are prepared with Pillow and numpy exactly as ``WinCLIP.transform`` does (RGB, bicubic squash-resize
to the model size, ``/ 255``, the model's mean and std; docs/algorithm.md section 1), from the sidecar's preprocessing.

Examples:
    >>> model = ExportedModel("outputs/export/<run>/bottle.onnx")          # doctest: +SKIP
    >>> out = model(model.load_images(["a.png", "b.png"]))                 # doctest: +SKIP
    >>> out.image_scores.shape, out.anomaly_maps.shape                     # doctest: +SKIP
    ((2,), (2, 240, 240))
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from winclip_lit.data.errors import DatasetError
from winclip_lit.data.io import load_image
from winclip_lit.deploy.errors import EXTRA_HINT, DeployError
from winclip_lit.deploy.sidecar import INPUT_NAME, OUTPUT_NAMES, ExportInfo, Preprocessing, read_sidecar
from winclip_lit.messages import one_line

BACKENDS = ("onnxruntime", "openvino")
OPENVINO_PRECISIONS = ("f32", "auto")


@dataclass
class ExportedOutput:
    """Scores of a batch of images from an exported graph.

    Attributes:
        image_scores: (B,) anomaly probabilities in [0, 1].
        anomaly_maps: (B, S, S) anomaly maps at the model input size, in [0, 1].
    """

    image_scores: np.ndarray
    anomaly_maps: np.ndarray


def preprocess(image: Image.Image, preprocessing: Preprocessing) -> np.ndarray:
    """One PIL image -> normalised (3, S, S) float32 array, as ``ImageTransform`` does.

    ``torchvision``'s resize of a PIL image is PIL's own bicubic resize; ``to_tensor`` divides the uint8
    values by 255 in float32; ``normalize`` subtracts the mean and divides by the std in float32.
    """
    size = preprocessing.image_size
    rgb = image.convert(preprocessing.color)
    resized = rgb.resize((size, size), Image.Resampling.BICUBIC)
    values = np.asarray(resized, dtype=np.float32) / np.float32(255.0)
    mean = np.asarray(preprocessing.mean, dtype=np.float32)
    std = np.asarray(preprocessing.std, dtype=np.float32)
    return np.ascontiguousarray(((values - mean) / std).transpose(2, 0, 1))


def _import_backend(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError as error:
        raise DeployError(f"backend {name} is not installed: {EXTRA_HINT}") from error


Runner = Callable[[np.ndarray], list[np.ndarray]]
"""Runs a (N, 3, S, S) batch through a loaded graph: [image_scores, anomaly_maps]."""


def _onnxruntime_runner(path: Path, threads: int | None) -> tuple[Runner, list[Any]]:
    ort = _import_backend("onnxruntime")
    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = int(threads)
    try:
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as error:  # a corrupt or foreign file is the user's input, not our bug
        raise DeployError(f"onnxruntime cannot load {path} ({one_line(error, limit=300)})") from error
    _check_names(path, [i.name for i in session.get_inputs()], [o.name for o in session.get_outputs()])
    shape = next(i.shape for i in session.get_inputs() if i.name == INPUT_NAME)
    return lambda images: session.run(list(OUTPUT_NAMES), {INPUT_NAME: images}), list(shape)


def _openvino_runner(path: Path, threads: int | None, precision: str) -> tuple[Runner, list[Any]]:
    ov = _import_backend("openvino")
    config: dict[str, Any] = {}
    if precision == "f32":
        config["INFERENCE_PRECISION_HINT"] = "f32"  # the CPU plugin picks bf16 on CPUs that have it
    if threads:
        config["INFERENCE_NUM_THREADS"] = int(threads)
    core = ov.Core()
    try:
        compiled = core.compile_model(core.read_model(str(path)), "CPU", config)
    except Exception as error:  # a corrupt or foreign file is the user's input, not our bug
        raise DeployError(f"openvino cannot load {path} ({one_line(error, limit=300)})") from error
    inputs = [name for port in compiled.inputs for name in port.get_names()]
    outputs = [name for port in compiled.outputs for name in port.get_names()]
    _check_names(path, inputs, outputs)
    request = compiled.create_infer_request()
    shape = [
        dim.get_length() if dim.is_static else None for dim in compiled.input(INPUT_NAME).get_partial_shape()
    ]

    def run(images: np.ndarray) -> list[np.ndarray]:
        result = request.infer({INPUT_NAME: images})
        return [np.array(result[compiled.output(name)]) for name in OUTPUT_NAMES]

    return run, shape


def _check_names(path: Path, inputs: Sequence[str], outputs: Sequence[str]) -> None:
    if INPUT_NAME not in inputs or not set(OUTPUT_NAMES) <= set(outputs):
        raise DeployError(
            f"{path} is not a winclip-lit graph (inputs {list(inputs)}, outputs {list(outputs)}; "
            f"expected {INPUT_NAME} -> {', '.join(OUTPUT_NAMES)})"
        )


def _check_input_size(path: Path, shape: Sequence[Any], size: int) -> None:
    """The sidecar's ``image_size`` must be the side of the graph's ``images`` input."""
    sides = [dim if isinstance(dim, int) else None for dim in shape[2:]] if len(shape) == 4 else []
    if sides and None not in sides and sides != [size, size]:
        raise DeployError(
            f"{path.name}.json says image_size {size} but the graph {path.name} takes "
            f"{sides[0]} x {sides[1]} images: the sidecar does not belong to this graph; export it again"
        )


class ExportedModel:
    """An exported graph and its sidecar, ready to score images.

    Args:
        path: The exported file (``.onnx``, or OpenVINO ``.xml``) with its ``<file>.json`` sidecar.
        backend: ``onnxruntime`` or ``openvino`` (default: ``openvino`` for ``.xml``, else ``onnxruntime``).
            OpenVINO also runs ``.onnx`` files.
        threads: CPU threads (default: the runtime's choice, all cores).
        openvino_precision: ``f32`` (default; equals PyTorch to ~1e-6) or ``auto`` (OpenVINO's CPU default:
            bf16 on CPUs with bf16 instructions; faster, maps within ~1e-2).
    """

    def __init__(
        self,
        path: str | Path,
        backend: str | None = None,
        threads: int | None = None,
        openvino_precision: str = "f32",
    ) -> None:
        self.path = Path(path).expanduser()
        self.info: ExportInfo = read_sidecar(self.path)
        if backend is None:
            backend = "openvino" if self.info.file_format == "openvino" else "onnxruntime"
        if backend not in BACKENDS:
            raise DeployError(f"backend {backend!r} is unknown; use one of {', '.join(BACKENDS)}")
        if backend == "onnxruntime" and self.info.file_format != "onnx":
            raise DeployError(f"{self.path} is an OpenVINO export; run it with backend=openvino")
        if openvino_precision not in OPENVINO_PRECISIONS:
            raise DeployError(
                f"openvino_precision {openvino_precision!r} is unknown; use {' or '.join(OPENVINO_PRECISIONS)}"
            )
        self.backend = backend
        if backend == "onnxruntime":
            self._run, shape = _onnxruntime_runner(self.path, threads)
        else:
            self._run, shape = _openvino_runner(self.path, threads, openvino_precision)
        _check_input_size(self.path, shape, self.image_size)

    @property
    def image_size(self) -> int:
        """Side S of the square input in pixels."""
        return self.info.preprocessing.image_size

    def preprocess(self, image: Image.Image) -> np.ndarray:
        """One PIL image -> normalised (3, S, S) float32 input."""
        return preprocess(image, self.info.preprocessing)

    def load_images(self, paths: Sequence[str | Path]) -> np.ndarray:
        """Read (as the PyTorch model's data loaders do) and preprocess image files into a (N, 3, S, S) batch."""
        batch = []
        for path in paths:
            try:
                batch.append(self.preprocess(load_image(Path(path))))
            except DatasetError as error:
                raise DeployError(str(error)) from error
        return np.stack(batch)

    def __call__(self, images: np.ndarray) -> ExportedOutput:
        """Score preprocessed images (N, 3, S, S)."""
        images = np.asarray(images)
        size = self.image_size
        if images.ndim != 4 or images.shape[1:] != (3, size, size) or images.shape[0] == 0:
            raise DeployError(
                f"{self.path.name} takes (N, 3, {size}, {size}) images (use model.preprocess), "
                f"got shape {images.shape}"
            )
        scores, maps = self._run(np.ascontiguousarray(images, dtype=np.float32))
        return ExportedOutput(image_scores=scores, anomaly_maps=maps)
