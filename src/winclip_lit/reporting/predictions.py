"""What a prediction run lists, names, skips and writes, for every backend (torch, onnxruntime, openvino).

Every image below the input folder is listed (subfolders included, sorted by relative path); each readable
one gets a row of ``scores.csv`` and an overlay named after its relative path (``a/x.png`` ->
``overlays/a/x_png.png``, so ``x.png``/``x.jpg`` or ``a/x.png``/``b/x.png`` never overwrite each other);
``masks/<overlay name>`` holds its binary mask at the image's own size (white: map >= the pixel threshold);
unreadable ones are skipped, named one line each and in ``skipped.txt``, and the run ends with
:class:`~winclip_lit.engine.errors.PartialResultError` after writing the others' scores.

Imports neither torch nor Lightning: the exported backends run where only a runtime is installed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from winclip_lit.config.errors import ConfigError
from winclip_lit.data.io import IMAGE_EXTENSIONS, image_size_hw, is_image_file
from winclip_lit.engine.errors import PartialResultError
from winclip_lit.files import write_text
from winclip_lit.reporting.overlays import panel, resize_map, save_mask, save_panel
from winclip_lit.reporting.tables import write_csv

SCORE_COLUMNS = ["image", "image_score", "max_pixel_score", "anomalous", "overlay"]
"""The columns of ``scores.csv``."""


DEFAULT_THRESHOLD = 0.5
"""predict's threshold when neither ``predict.threshold`` nor a calibrated one is there."""


@dataclass(frozen=True)
class Decision:
    """The thresholds a prediction applies and where they came from.

    Attributes:
        image: Images with score >= image are ``anomalous``.
        pixel: Map pixels >= pixel are outlined and white in ``masks/``.
        source: Where they came from, for the summary line.
    """

    image: float
    pixel: float
    source: str


def describe_thresholds(thresholds: Mapping[str, Any]) -> str:
    """``conformal, alpha 0.01 on 100 normal images``: how stored thresholds were found."""
    method = thresholds.get("method", "?")
    if method == "conformal":
        return (
            f"conformal, alpha {thresholds.get('alpha')} on {thresholds.get('num_calibration')} normal images"
        )
    if method == "f1":
        return f"F1-optimal on {thresholds.get('num_validation')} validation images"
    return str(method)


def choose_thresholds(given: float | None, stored: Mapping[str, Any] | None, where: str) -> Decision:
    """``predict.threshold`` when given, else the calibrated thresholds of ``where``, else 0.5.

    Args:
        given: ``predict.threshold`` (None: not given).
        stored: The category's thresholds from a checkpoint or export sidecar (None: none stored).
        where: What holds ``stored`` (``checkpoint x.pt``, ``sidecar x.onnx.json``).
    """
    if given is not None:
        return Decision(float(given), float(given), f"predict.threshold={given}")
    if stored and stored.get("image") is not None:
        image = float(stored["image"])
        pixel = float(stored["pixel"]) if stored.get("pixel") is not None else image
        return Decision(image, pixel, f"{describe_thresholds(stored)}, from {where}")
    return Decision(
        DEFAULT_THRESHOLD,
        DEFAULT_THRESHOLD,
        f"default {DEFAULT_THRESHOLD} ({where} holds no calibrated threshold)",
    )


def input_images(folder: str | Path) -> list[Path]:
    """Image files below ``folder`` (subfolders included), sorted by relative path."""
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise ConfigError(
            f"predict.input_dir={folder} does not exist; pass predict.input_dir=/path/to/images"
        )
    files = sorted((p for p in folder.rglob("*") if is_image_file(p)), key=lambda p: p.as_posix())
    if not files:
        raise ConfigError(f"predict.input_dir={folder} holds no images ({'/'.join(IMAGE_EXTENSIONS)})")
    return files


def overlay_names(files: Sequence[Path], root: Path) -> list[str]:
    """A unique overlay file name per image: its relative path with the extension folded into the stem."""
    names, seen = [], set()
    for path in files:
        relative = Path(path).relative_to(root)
        base = relative.with_name(f"{relative.stem}_{relative.suffix.lstrip('.').lower()}").as_posix()
        name, n = f"{base}.png", 1
        while name in seen:
            n += 1
            name = f"{base}_{n}.png"
        seen.add(name)
        names.append(name)
    return names


def write_image_result(
    output_dir: Path,
    path: Path,
    overlay: str,
    score: float,
    anomaly_map: Any,
    threshold: float,
    pixel_threshold: float | None = None,
    also: Callable[[Path, np.ndarray], Any] | None = None,
) -> list[Any]:
    """Draw ``overlays/<overlay>`` and ``masks/<overlay>`` of one scored image; return its row of ``scores.csv``.

    Args:
        output_dir: The run folder.
        path: The image file.
        overlay: Its overlay name (from :func:`overlay_names`).
        score: Its image score.
        anomaly_map: Its (H, W) anomaly map (numpy array or CPU tensor).
        threshold: Image threshold of the ``anomalous`` column.
        pixel_threshold: Outline threshold of the overlay and of the mask (default ``threshold``).
        also: Called with the image's path and its map at the image's size, for more files per image.
    """
    values = np.asarray(anomaly_map, dtype=np.float32)
    pixel = threshold if pixel_threshold is None else pixel_threshold
    save_panel(output_dir / "overlays" / overlay, panel(path, values, pixel))
    full = resize_map(values, image_size_hw(Path(path)))  # the image's own size, as the metrics resize
    save_mask(output_dir / "masks" / overlay, full >= pixel)
    if also is not None:
        also(Path(path), full)
    score = float(score)
    return [str(path), f"{score:.6f}", f"{float(full.max()):.6f}", int(score >= threshold), overlay]


def finish_prediction(
    output_dir: Path,
    rows: Sequence[Sequence[Any]],
    skipped: Sequence[tuple[str, str]],
    scored_by: str,
    threshold: Decision,
    say: Callable[[str], Any],
) -> Path:
    """Write ``scores.csv``, say what was scored; with skipped files also ``skipped.txt`` and raise.

    Args:
        output_dir: The run folder.
        rows: The rows of the scored images, in listing order.
        skipped: ``(path, reason)`` of each unreadable image, in listing order.
        scored_by: What scored them, for the summary line (``as 'screw'``, ``with screw.onnx (openvino)``).
        threshold: The thresholds applied and where they came from, for the summary lines.
        say: Prints one line.

    Returns:
        The path of ``scores.csv``.

    Raises:
        PartialResultError: Some images were skipped (after everything else is written).
    """
    scores_file = write_csv(output_dir / "scores.csv", SCORE_COLUMNS, rows)
    flagged = sum(int(row[3]) for row in rows)
    say(
        f"{len(rows)} images scored {scored_by}: {flagged} at or above threshold {threshold.image:.6g} "
        f"(pixel threshold {threshold.pixel:.6g}; {threshold.source}) -> {scores_file}"
    )
    report_skipped(output_dir, skipped, f"scores.csv holds the other {len(rows)}", say)
    return scores_file


def report_skipped(
    output_dir: Path, skipped: Sequence[tuple[str, str]], kept: str, say: Callable[[str], Any]
) -> None:
    """Name each skipped image, list them in ``skipped.txt`` and raise; nothing when none was skipped.

    Args:
        output_dir: The run folder.
        skipped: ``(path, reason)`` of each unreadable image, in listing order.
        kept: What holds the others' results, for the error line (``scores.csv holds the other 12``).
        say: Prints one line.

    Raises:
        PartialResultError: Some images were skipped.
    """
    if not skipped:
        return
    for path, reason in skipped:
        say(f"skipped {path}: {reason}")
    listing = write_text(output_dir / "skipped.txt", "".join(f"{p}\n" for p, _ in skipped))
    raise PartialResultError(f"{len(skipped)} unreadable image(s) skipped (listed in {listing}); {kept}")
