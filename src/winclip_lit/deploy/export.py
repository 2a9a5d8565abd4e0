"""Export a category's WinCLIP / WinCLIP+ (arXiv 2303.14814) as one graph: images -> scores and maps.

The graph takes preprocessed images ``images`` (B, 3, S, S), B dynamic, and returns ``image_scores`` (B,)
and ``anomaly_maps`` (B, S, S). It is the model's own code traced once: the image tower with all windows of
a scale gathered in one indexing operation and run as one batch (``WindowEncoder.forward(chunked=False)``),
then :meth:`WinCLIP.score` (two-class text scoring, harmonic aggregation, few-shot association). The
category's text embeddings and the reference memory (the model's buffers) are constants of the graph. A JSON
sidecar (:mod:`winclip_lit.deploy.sidecar`) records what the graph computes and how to prepare its images.

Free functions over a model, as ``timm.utils.onnx_export`` and ``open_clip.trace_model`` are: the model
package knows nothing of deployment.

Examples:
    >>> from winclip_lit.deploy import export_onnx          # doctest: +SKIP
    >>> model.set_class_name("screw")                       # doctest: +SKIP
    >>> export_onnx(model, "screw.onnx")                    # doctest: +SKIP

ONNX export uses ``torch.onnx.export(dynamo=True)`` (needs the ``export`` extra: onnx, onnxscript);
OpenVINO IR is converted from that ONNX graph (openvino). int8 variants: :mod:`winclip_lit.deploy.quantize`.
"""

from __future__ import annotations

import importlib
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from torch import nn

from winclip_lit.deploy.convert import onnx_to_openvino
from winclip_lit.deploy.errors import EXTRA_HINT
from winclip_lit.deploy.quantize import (
    ONNXRUNTIME_DYNAMIC,
    OPENVINO_WEIGHTS,
    compress_weights,
    quantize_onnxruntime,
)
from winclip_lit.deploy.sidecar import (
    DEFAULT_OPSET,
    INPUT_NAME,
    OPSETS,
    OUTPUT_NAMES,
    SUFFIXES,
    ExportInfo,
    Preprocessing,
    write_sidecar,
)
from winclip_lit.model.encoder import WindowEncoder
from winclip_lit.model.errors import ExportError

if TYPE_CHECKING:
    from winclip_lit.model.winclip import WinCLIP

EXAMPLE_BATCH = 2
"""Batch of the example input that is traced (torch.export specialises sizes 0 and 1); the graph's batch
dimension is dynamic."""

ENCODER_SCOPE = f"{WindowEncoder.__module__}.{WindowEncoder.__qualname__}"
"""Namespace of the image tower's nodes in the exported graph: the int8 variants quantise only these."""


class ExportGraph(nn.Module):
    """The model's encoder and scoring as one traceable forward (no per-window or per-chunk Python loop).

    Args:
        model: A WinCLIP whose class name (and, for WinCLIP+, references) are set.
    """

    def __init__(self, model: WinCLIP) -> None:
        super().__init__()
        self.model = model

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, 3, S, S) normalised images -> image scores (B,) and anomaly maps (B, S, S)."""
        out = self.model.score(self.model.encoder(images, chunked=False))
        return out.image_scores, out.anomaly_maps


def _require(*modules: str) -> None:
    """Raise a one-line :class:`ExportError` naming the extra when an optional module is missing."""
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError as error:
            raise ExportError(f"exporting needs {name} (the `export` extra): {EXTRA_HINT}") from error


def _check(model: WinCLIP, path: Path, file_format: str) -> None:
    major, minor = (int(part) for part in torch.__version__.split(".")[:2])
    if (major, minor) < (2, 6):
        raise ExportError(
            f"exporting needs torch >= 2.6 (the dynamo ONNX exporter), found {torch.__version__}"
        )
    if model.category is None:
        raise ExportError(
            "call model.set_class_name(category) (and set_reference_images for WinCLIP+) before exporting: "
            "the graph holds that category's text embeddings"
        )
    if model.options.tiling or model.options.resize_backend != "pil":
        raise ExportError(
            "export supports square inputs with PIL preprocessing: set tiling=false and resize_backend=pil "
            "(the exported runtime resizes with PIL, one square per image)"
        )
    suffix = SUFFIXES[file_format]
    if path.suffix.lower() != suffix:
        raise ExportError(f"export path {path} must end in {suffix} for format {file_format}")


def export_info(model: WinCLIP, file_format: str, int8: str | None, opset: int) -> ExportInfo:
    """The sidecar contents for ``model`` as it is now (category, references, preprocessing)."""
    from winclip_lit import __version__

    transform = model.transform
    return ExportInfo(
        file_format=file_format,
        category=model.category,
        class_name=str(model.class_name),
        shots=0 if model.reference is None else len(model.reference),
        model_name=model.model_name,
        pretrained=model.pretrained,
        feature_fingerprint=model.feature_fingerprint(),
        preprocessing=Preprocessing(transform.image_size, transform.mean, transform.std),
        int8=int8,
        opset=opset,
        options={
            **{k: list(v) if isinstance(v, tuple) else v for k, v in model.options.values().items()},
            "graph_dtype": "float32",
        },
        version=__version__,
    )


def graph_opset(path: Path) -> int:
    """The default-domain ONNX opset an ONNX file really declares."""
    import onnx

    imports = onnx.load(str(path), load_external_data=False).opset_import
    return next(entry.version for entry in imports if entry.domain in ("", "ai.onnx"))


def trace_onnx(model: WinCLIP, path: Path, opset: int = DEFAULT_OPSET) -> Path:
    """Write the fp32 ONNX graph of ``model`` (no sidecar) to ``path``, weights inside the file.

    Raises:
        ExportError: The exporter wrote another opset than ``opset`` (it falls back silently).
    """
    size = model.image_size
    example = torch.zeros(EXAMPLE_BATCH, 3, size, size, device=model.device)
    batch = torch.export.Dim("batch", min=1)
    torch.onnx.export(
        ExportGraph(model).eval(),
        (example,),
        str(path),
        dynamo=True,
        opset_version=opset,
        input_names=[INPUT_NAME],
        output_names=list(OUTPUT_NAMES),
        dynamic_shapes=({0: batch},),
        external_data=False,
        verbose=False,
    )
    written = graph_opset(path)
    if written != opset:
        raise ExportError(
            f"opset={opset} was asked, but the exporter wrote an opset {written} graph; choose an opset "
            f"from {OPSETS[0]} to {OPSETS[-1]}"
        )
    return path


def _prepare(
    model: WinCLIP, path: str | Path, opset: int | None, file_format: str, *packages: str
) -> tuple[Path, int]:
    """Check the model, the target and the optional packages of an export; returns the path and opset."""
    path = Path(path).expanduser()
    opset = DEFAULT_OPSET if opset is None else int(opset)
    if opset not in OPSETS:
        raise ExportError(
            f"opset={opset} is out of range: choose an ONNX opset from {OPSETS[0]} to {OPSETS[-1]}"
        )
    _check(model, path, file_format)
    _require("onnx", "onnxscript", *packages)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path, opset


def export_onnx(model: WinCLIP, path: str | Path, opset: int | None = None, int8: bool = False) -> Path:
    """Export ``model`` for its current category as one ONNX file plus ``<file>.json``.

    Args:
        model: A WinCLIP with ``set_class_name`` called (and references set for WinCLIP+).
        path: Target ``.onnx`` file (replaced atomically).
        opset: ONNX opset, 18 to 25 (default :data:`DEFAULT_OPSET`); the sidecar records the graph's own.
        int8: Quantise the image tower's linear layers (ONNX Runtime dynamic int8); never the default.

    Returns:
        ``path``.
    """
    path, opset = _prepare(model, path, opset, "onnx", *(("onnxruntime",) if int8 else ()))
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        graph = trace_onnx(model, Path(tmp) / "graph.onnx", opset)
        if int8:
            graph = Path(tmp) / "int8.onnx"
            quantize_onnxruntime(Path(tmp) / "graph.onnx", graph, ENCODER_SCOPE)
            opset = graph_opset(graph)  # what the quantized file declares (trace_onnx checked the traced one)
        graph.replace(path)
    write_sidecar(path, export_info(model, "onnx", ONNXRUNTIME_DYNAMIC if int8 else None, opset))
    return path


def export_openvino(model: WinCLIP, path: str | Path, opset: int | None = None, int8: bool = False) -> Path:
    """Export ``model`` for its current category as OpenVINO IR (``.xml`` + ``.bin``) plus ``<file>.json``.

    Args:
        model: A WinCLIP with ``set_class_name`` called (and references set for WinCLIP+).
        path: Target ``.xml`` file; the weights go to the ``.bin`` beside it.
        opset: ONNX opset of the intermediate graph.
        int8: int8 weights (per output channel) for the image tower's linear layers; never the default.

    Returns:
        ``path``.
    """
    path, opset = _prepare(model, path, opset, "openvino", "openvino")
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        graph = trace_onnx(model, Path(tmp) / "graph.onnx", opset)
        if int8:
            graph = Path(tmp) / "int8.onnx"
            compress_weights(Path(tmp) / "graph.onnx", graph, ENCODER_SCOPE)
            opset = graph_opset(
                graph
            )  # what the compressed graph declares (trace_onnx checked the traced one)
        onnx_to_openvino(graph, path)
    write_sidecar(path, export_info(model, "openvino", OPENVINO_WEIGHTS if int8 else None, opset))
    return path
