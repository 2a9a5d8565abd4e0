"""predict.py with an exported graph: score a folder with ONNX Runtime or OpenVINO, without PyTorch.

:func:`predict_folder` imports neither torch nor Lightning: it runs where only the runtime is installed.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import TYPE_CHECKING

from winclip_lit.deploy.runtime import BACKENDS, ExportedModel, image_files
from winclip_lit.run.errors import ConfigError
from winclip_lit.run.visualize import panel, save_panel

if TYPE_CHECKING:
    from omegaconf import DictConfig

    from winclip_lit.run.context import RunContext

SCORE_COLUMNS = ("image", "image_score", "max_pixel_score", "anomalous", "overlay")
"""The columns of ``scores.csv`` (as the PyTorch ``predict``)."""


def predict_folder(
    model_file: str | Path,
    input_dir: str | Path,
    output_dir: str | Path,
    backend: str = "onnxruntime",
    batch_size: int = 8,
    threshold: float = 0.5,
) -> Path:
    """Write ``scores.csv`` and ``overlays/<image stem>.png`` for every image of ``input_dir``.

    Args:
        model_file: An exported ``.onnx`` or ``.xml`` file with its ``<file>.json`` sidecar.
        input_dir: Folder of images (not recursive).
        output_dir: Where ``scores.csv`` and ``overlays/`` go.
        backend: ``onnxruntime`` or ``openvino``.
        batch_size: Images per inference call.
        threshold: Images with score >= threshold are ``anomalous``; map pixels >= threshold are outlined.

    Returns:
        The path of ``scores.csv``.

    Examples:
        >>> predict_folder("bottle.onnx", "/line/images", "out", backend="openvino")  # doctest: +SKIP
    """
    if int(batch_size) < 1:
        raise ConfigError(f"batch size must be >= 1, got {batch_size}")
    model = ExportedModel(model_file, backend)
    files = image_files(input_dir)
    output_dir = Path(output_dir)
    overlays = output_dir / "overlays"
    rows = []
    for start in range(0, len(files), int(batch_size)):
        chunk = files[start : start + int(batch_size)]
        out = model(model.load_images(chunk))
        for path, score, anomaly_map in zip(chunk, out.image_scores, out.anomaly_maps, strict=True):
            picture = save_panel(overlays / f"{path.stem}.png", panel(path, anomaly_map, threshold))
            rows.append(
                [
                    str(path),
                    f"{float(score):.6f}",
                    f"{float(anomaly_map.max()):.6f}",
                    int(score >= threshold),
                    picture.name,
                ]
            )
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(SCORE_COLUMNS)
    writer.writerows(rows)
    scores_file = output_dir / "scores.csv"
    partial = output_dir / f".scores.csv.{os.getpid()}.part"
    partial.write_text(text.getvalue(), newline="")
    os.replace(partial, scores_file)
    return scores_file


def predict_exported(cfg: DictConfig, run: RunContext) -> Path:
    """``predict`` for ``predict.backend=onnxruntime|openvino``: the folder scored with ``predict.model``."""
    from winclip_lit.run.context import console

    backend = str(cfg.predict.backend)
    if backend not in BACKENDS:
        raise ConfigError(f"predict.backend={backend} is unknown; use torch, {' or '.join(BACKENDS)}")
    if not cfg.predict.get("model"):
        raise ConfigError(
            f"predict.backend={backend} needs an exported file: pass predict.model=<run dir>/<category>.onnx "
            "(write one with `python export.py ...`)"
        )
    if not cfg.predict.input_dir:
        raise ConfigError("predict.input_dir is not set; pass predict.input_dir=/path/to/images")
    scores_file = predict_folder(
        cfg.predict.model,
        cfg.predict.input_dir,
        run.output_dir,
        backend=backend,
        batch_size=int(cfg.loader.batch_size),
        threshold=float(cfg.predict.threshold),
    )
    console.print(f"{backend} scores of {cfg.predict.model} -> {scores_file}")
    return scores_file
