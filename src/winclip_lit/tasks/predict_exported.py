"""predict.py with an exported graph: score a folder with ONNX Runtime or OpenVINO, without PyTorch.

The folder is listed, named, skipped and written exactly as the PyTorch backend does
(:mod:`winclip_lit.reporting.predictions`). :func:`predict_folder` imports neither torch nor Lightning: it runs
where only the runtime is installed.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from winclip_lit.data.errors import DatasetError
from winclip_lit.data.io import load_image
from winclip_lit.deploy.runtime import BACKENDS, ExportedModel
from winclip_lit.engine.errors import ConfigError
from winclip_lit.reporting.predictions import (
    choose_thresholds,
    finish_prediction,
    input_images,
    overlay_names,
    write_image_result,
)

if TYPE_CHECKING:
    from omegaconf import DictConfig

    from winclip_lit.engine.context import RunContext


def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr)


def predict_folder(
    model_file: str | Path,
    input_dir: str | Path,
    output_dir: str | Path,
    backend: str = "onnxruntime",
    batch_size: int = 8,
    threshold: float | None = None,
    say: Callable[[str], Any] = _to_stderr,
) -> Path:
    """Write ``scores.csv`` and ``overlays/`` for every image below ``input_dir``, as ``predict`` does.

    Args:
        model_file: An exported ``.onnx`` or ``.xml`` file with its ``<file>.json`` sidecar.
        input_dir: Folder of images (subfolders included).
        output_dir: Where ``scores.csv``, ``overlays/``, ``masks/`` and (when files were unreadable) ``skipped.txt`` go.
        backend: ``onnxruntime`` or ``openvino``.
        batch_size: Images per inference call.
        threshold: Images with score >= threshold are ``anomalous``, map pixels >= threshold outlined and
            in ``masks/``; None: the sidecar's calibrated thresholds (image and pixel), else 0.5.
        say: Prints the summary line and one line per skipped file (default: to stderr).

    Returns:
        The path of ``scores.csv``.

    Raises:
        PartialResultError: Some files were unreadable; the others' scores are written.

    Examples:
        >>> predict_folder("bottle.onnx", "/line/images", "out", backend="openvino")  # doctest: +SKIP
    """
    if int(batch_size) < 1:
        raise ConfigError(f"batch size must be >= 1, got {batch_size}")
    model = ExportedModel(model_file, backend)
    decision = choose_thresholds(threshold, model.info.thresholds, f"sidecar {Path(model_file).name}.json")
    root = Path(input_dir).expanduser()
    files = input_images(root)
    names = overlay_names(files, root)
    output_dir = Path(output_dir)
    rows: list[list[Any]] = []
    skipped: list[tuple[str, str]] = []
    for start in range(0, len(files), int(batch_size)):
        ready, images = [], []
        for index in range(start, min(start + int(batch_size), len(files))):
            try:
                images.append(model.preprocess(load_image(files[index])))
            except DatasetError as error:
                skipped.append((str(files[index]), str(error)))
                continue
            ready.append(index)
        if not ready:
            continue
        out = model(np.stack(images))
        for index, score, anomaly_map in zip(ready, out.image_scores, out.anomaly_maps, strict=True):
            rows.append(
                write_image_result(
                    output_dir, files[index], names[index], score, anomaly_map, decision.image, decision.pixel
                )
            )
    scored_by = f"with {Path(model_file).name} ({model.backend})"
    return finish_prediction(output_dir, rows, skipped, scored_by, decision, say)


def _refuse_torch_only_keys(cfg: DictConfig, backend: str) -> None:
    """``predict.category`` and ``ckpt_path`` choose what PyTorch scores; an exported file holds both."""
    if cfg.predict.get("category") is not None:
        raise ConfigError(
            f"predict.category={cfg.predict.category} does not apply to predict.backend={backend}: the "
            "exported file holds its category (see its .json sidecar); drop predict.category or export "
            "that category"
        )
    if cfg.get("ckpt_path") is not None:
        raise ConfigError(
            f"ckpt_path={cfg.ckpt_path} does not apply to predict.backend={backend}: the exported file "
            "holds its references; drop ckpt_path (export the checkpoint with `winclip-lit export "
            "ckpt_path=...`)"
        )


def predict_exported(cfg: DictConfig, run: RunContext) -> Path:
    """``predict`` for ``predict.backend=onnxruntime|openvino``: the folder scored with ``predict.model``."""
    from winclip_lit.engine.context import console

    backend = str(cfg.predict.backend)
    if backend not in BACKENDS:
        raise ConfigError(f"predict.backend={backend} is unknown; use torch, {' or '.join(BACKENDS)}")
    if not cfg.predict.get("model"):
        raise ConfigError(
            f"predict.backend={backend} needs an exported file: pass predict.model=<run dir>/<category>.onnx "
            "(write one with `winclip-lit export ...`)"
        )
    _refuse_torch_only_keys(cfg, backend)
    if not cfg.predict.input_dir:
        raise ConfigError("predict.input_dir is not set; pass predict.input_dir=/path/to/images")
    return predict_folder(
        cfg.predict.model,
        cfg.predict.input_dir,
        run.output_dir,
        backend=backend,
        batch_size=int(cfg.loader.batch_size),
        threshold=cfg.predict.get("threshold"),
        say=console.print,
    )
