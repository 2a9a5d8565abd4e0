"""int8 variants of an exported graph: the image tower's linear layers in 8 bits, the scoring in fp32.

WinCLIP's CPU time is almost all in the ViT's linear layers (arXiv 2303.14814 runs ~2,900 tokens per image
through them), so cheaper arithmetic there is the one large CPU gain. Only the MatMuls inside the image
tower (``scope``, from the exporter's per-node ``namespace`` metadata) whose second input is a constant are
quantised; the text scoring, harmonic aggregation and few-shot association stay in fp32 (their inputs span
many orders of magnitude: harmonic means invert probabilities).

Two forms, one per runtime:

- :func:`quantize_onnxruntime`: ONNX Runtime dynamic quantisation (int8 weights per tensor, activations
  quantised per call: ``MatMulInteger``), fast in ONNX Runtime.
- :func:`compress_weights`: int8 weights per output channel behind ``DequantizeLinear`` (weight-only); the
  OpenVINO converter turns them into compressed weights that its CPU plugin runs with int8 arithmetic.

Nothing here imports torch.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

FOLDABLE = ("Constant", "Transpose", "Slice", "Squeeze", "Unsqueeze", "Reshape", "Cast", "Identity")
"""Ops that the exporter leaves on weights (e.g. the transpose of a linear layer's weight); folded first."""

ONNXRUNTIME_DYNAMIC = "onnxruntime-dynamic"
OPENVINO_WEIGHTS = "openvino-weights"


def _namespace(node: Any) -> str:
    return next((p.value for p in node.metadata_props if p.key == "namespace"), "")


def fold_constants(model: Any) -> Any:
    """Replace nodes of :data:`FOLDABLE` whose inputs are all initializers by initializers (in place).

    Identical nodes (same op, attributes and inputs) are folded once. Initializers no longer used are dropped.
    """
    from onnx import numpy_helper
    from onnx.reference import ReferenceEvaluator

    graph = model.graph
    constants = {init.name: init for init in graph.initializer}
    outputs = {output.name for output in graph.output}
    renamed: dict[str, str] = {}
    seen: dict[tuple, list[str]] = {}
    kept = []
    for node in graph.node:
        for i, name in enumerate(node.input):
            if name in renamed:
                node.input[i] = renamed[name]
        inputs = [name for name in node.input if name]
        foldable = node.op_type in FOLDABLE and not outputs.intersection(node.output)
        if not foldable or not all(name in constants for name in inputs):
            kept.append(node)
            continue
        key = (node.op_type, tuple(a.SerializeToString() for a in node.attribute), tuple(node.input))
        if key in seen:
            renamed.update(zip(node.output, seen[key], strict=True))
            continue
        values = ReferenceEvaluator(node).run(None, {n: numpy_helper.to_array(constants[n]) for n in inputs})
        for name, value in zip(node.output, values, strict=True):
            constants[name] = numpy_helper.from_array(value, name)
            graph.initializer.append(constants[name])
        seen[key] = list(node.output)
    del graph.node[:]
    graph.node.extend(kept)
    _drop_unused_initializers(model)
    return model


def _drop_unused_initializers(model: Any) -> None:
    graph = model.graph
    used = {name for node in graph.node for name in node.input} | {out.name for out in graph.output}
    kept = [init for init in graph.initializer if init.name in used]
    del graph.initializer[:]
    graph.initializer.extend(kept)


def linear_matmuls(model: Any, scope: str) -> list[Any]:
    """MatMul nodes inside ``scope`` (a substring of the node's ``namespace`` metadata) with a constant
    right-hand side: the linear layers of the image tower (after :func:`fold_constants`)."""
    constants = {init.name for init in model.graph.initializer}
    return [
        node
        for node in model.graph.node
        if node.op_type == "MatMul"
        and scope in _namespace(node)
        and node.input[1] in constants
        and node.input[0] not in constants
    ]


def _selected(model: Any, scope: str) -> list[Any]:
    nodes = linear_matmuls(model, scope)
    if not nodes:
        raise ValueError(
            f"no linear layer of {scope} found in the graph (node namespace metadata missing?); "
            "cannot quantise it"
        )
    return nodes


def quantize_onnxruntime(source: Path, target: Path, scope: str) -> int:
    """ONNX Runtime dynamic int8 quantisation of the linear layers in ``scope``; returns how many.

    Args:
        source: The fp32 ONNX file from the exporter.
        target: Where to write the quantised ONNX file.
        scope: Namespace of the image tower's nodes.
    """
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model = fold_constants(onnx.load(str(source)))
    nodes = _selected(model, scope)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        folded = Path(tmp) / "folded.onnx"
        onnx.save(model, str(folded))
        del model
        quantize_dynamic(
            folded,
            target,
            op_types_to_quantize=["MatMul"],
            nodes_to_quantize=[node.name for node in nodes],
            weight_type=QuantType.QInt8,
            extra_options={"MatMulConstBOnly": True},
        )
    return len(nodes)


def compress_weights(source: Path, target: Path, scope: str) -> int:
    """Weight-only int8 (symmetric, per output channel) of the linear layers in ``scope``; returns how many.

    Each weight ``W`` (K, N) becomes ``DequantizeLinear(round(W / s), s)`` with ``s = max_k |W[k, n]| / 127``.
    """
    import numpy as np
    import onnx
    from onnx import helper, numpy_helper

    model = fold_constants(onnx.load(str(source)))
    graph = model.graph
    nodes = _selected(model, scope)
    constants = {init.name: init for init in graph.initializer}
    dequantized: dict[str, str] = {}
    new_nodes = []
    for node in nodes:
        weight = node.input[1]
        if weight not in dequantized:
            values = numpy_helper.to_array(constants[weight]).astype(np.float32)
            scale = np.maximum(np.abs(values).max(axis=0), np.finfo(np.float32).tiny) / 127.0
            quantized = np.clip(np.round(values / scale), -127, 127).astype(np.int8)
            graph.initializer.append(numpy_helper.from_array(quantized, f"{weight}_int8"))
            graph.initializer.append(numpy_helper.from_array(scale.astype(np.float32), f"{weight}_scale"))
            dequantized[weight] = f"{weight}_dequantized"
            new_nodes.append(
                helper.make_node(
                    "DequantizeLinear",
                    [f"{weight}_int8", f"{weight}_scale"],
                    [dequantized[weight]],
                    name=dequantized[weight],
                    axis=1,
                )
            )
        node.input[1] = dequantized[weight]
    ordered = new_nodes + list(graph.node)  # weights first: the graph stays topologically sorted
    del graph.node[:]
    graph.node.extend(ordered)
    _drop_unused_initializers(model)
    onnx.save(model, str(target))
    return len(nodes)
