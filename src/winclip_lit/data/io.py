"""File listing and decoding helpers shared by the datamodules (each raises :class:`DatasetError`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from winclip_lit.data.errors import DatasetError

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
"""Image files every reader accepts (any case); also the exported-model runner's list (this module needs
no torch, so ``winclip_lit.deploy.runtime`` imports it without PyTorch)."""


def is_image_file(path: Path) -> bool:
    """Whether ``path`` is a visible file with a known image extension (any case)."""
    return path.is_file() and not path.name.startswith(".") and path.suffix.lower() in IMAGE_EXTENSIONS


def list_images(folder: Path, what: str) -> list[Path]:
    """Sorted image files directly inside ``folder``.

    Args:
        folder: Folder to list.
        what: Human description of the folder for error messages (e.g. "normal images").

    Raises:
        DatasetError: If the folder is missing or holds no image.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DatasetError(f"{what} folder {folder} does not exist; check the path")
    files = sorted((p for p in folder.iterdir() if is_image_file(p)), key=lambda p: p.name)
    if not files:
        raise DatasetError(
            f"{what} folder {folder} contains no images ({'/'.join(IMAGE_EXTENSIONS)}); "
            "add images or fix the path"
        )
    return files


def find_mask(folder: Path, stem: str) -> Path | None:
    """The mask of the image with file stem ``stem`` in ``folder``: ``<stem>_mask.*`` or ``<stem>.*``."""
    for name in (f"{stem}_mask", stem):
        for ext in IMAGE_EXTENSIONS:
            for candidate in (folder / f"{name}{ext}", folder / f"{name}{ext.upper()}"):
                if candidate.is_file():
                    return candidate
    return None


def find_child(parent: Path, name: str) -> Path:
    """``parent/name``, or the one sub-folder whose name equals ``name`` ignoring case (``Train``/``train``).

    Returns ``parent/name`` (which may not exist) when no sub-folder matches.
    """
    exact = parent / name
    if exact.is_dir() or not parent.is_dir():
        return exact
    matches = [p for p in parent.iterdir() if p.is_dir() and p.name.lower() == name.lower()]
    return matches[0] if len(matches) == 1 else exact


class FileIndex:
    """The image files directly inside one folder, found by name without regard to case.

    Listing a folder once and looking names up in a dict keeps datasets with thousands of images
    (DAGM, KolektorSDD2) fast to list, and accepts every spelling of a suffix or an extension
    (``_label.PNG`` / ``_label.png``, ``_GT.png`` / ``_gt.PNG``).

    Examples:
        >>> index = FileIndex(Path("Class1/Train/Label"))  # doctest: +SKIP
        >>> index.find("0576", ("_label",))  # doctest: +SKIP
        PosixPath('Class1/Train/Label/0576_label.PNG')
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        files = sorted(p for p in self.folder.iterdir() if is_image_file(p)) if self.folder.is_dir() else []
        self._by_name = {p.name.lower(): p for p in files}

    def get(self, name: str) -> Path | None:
        """The file called ``name`` (any case), or None."""
        return self._by_name.get(name.lower())

    def find(self, stem: str, suffixes: tuple[str, ...] = ("",)) -> Path | None:
        """The first file named ``<stem><suffix>.<image extension>`` (any case), trying suffixes in order."""
        for suffix in suffixes:
            for ext in IMAGE_EXTENSIONS:
                found = self._by_name.get(f"{stem}{suffix}{ext}".lower())
                if found is not None:
                    return found
        return None


def has_suffix(path: Path, suffix: str) -> bool:
    """Whether the file stem ends with ``suffix`` ignoring case (``Part0_label`` has ``_label``)."""
    return path.stem.lower().endswith(suffix.lower())


def mask_is_anomalous(path: Path) -> bool:
    """Whether a mask file marks any pixel as anomalous (binarised like every mask: value > 0)."""
    return bool(mask_to_binary(open_image(path)).any())


_READ_ERRORS = (OSError, UnidentifiedImageError, SyntaxError, ValueError, Image.DecompressionBombError)

HIGH_DEPTH_MODES = ("I;16", "I;16B", "I;16L", "I;16N", "I", "F")
"""Single-channel modes with more than 8 bits per pixel; :func:`to_8bit` rescales them."""

FULL_SCALES = (1.0, 255.0, 4095.0, 65535.0)
"""Full-scale values tried in order: float [0, 1], 8-bit, 12-bit (as 10/12-bit sensors store), 16-bit."""


def _unreadable(path: Path, exc: BaseException) -> DatasetError:
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if isinstance(exc, Image.DecompressionBombError):
        return DatasetError(
            f"image file {path} is too large for Pillow ({reason.rstrip('.')}): Pillow refuses images over "
            f"2 x PIL.Image.MAX_IMAGE_PIXELS = {2 * (Image.MAX_IMAGE_PIXELS or 0)} pixels as a possible "
            "decompression bomb; downscale the image, or raise PIL.Image.MAX_IMAGE_PIXELS if you trust it"
        )
    return DatasetError(
        f"cannot read image file {path} ({reason}); it is corrupt or not an image, "
        "replace it or remove it from the dataset"
    )


def open_image(path: Path) -> Image.Image:
    """Open and fully decode an image with its stored values (masks are read this way).

    Raises:
        DatasetError: If the file is missing, truncated or not an image.
    """
    try:
        image = Image.open(path)
        image.load()
    except _READ_ERRORS as exc:
        raise _unreadable(path, exc) from exc
    return image


def full_scale(values: np.ndarray, floating: bool) -> float | None:
    """The value that maps to white (255) for a high-bit-depth image, or None for min-max scaling.

    It is the smallest of :data:`FULL_SCALES` that holds the image's maximum (1.0 only for float
    images, ``floating``): a 16-bit copy of an 8-bit image (``value * 257``) maps back to the 8-bit values exactly,
    and 12-bit data stored in 16 bits is not read 16x too dark. Negative or non-finite values, or values
    above 65535, have no standard range: None.
    """
    finite = values[np.isfinite(values)]
    if finite.size == 0 or finite.size < values.size or float(finite.min()) < 0:
        return None
    top = float(finite.max())
    scales = FULL_SCALES if floating else FULL_SCALES[1:]
    return next((scale for scale in scales if top <= scale), None)


def to_8bit(image: Image.Image) -> Image.Image:
    """An 8-bit version of a 16-bit, 32-bit integer or float single-channel image; others unchanged.

    ``image.convert("RGB")`` clips such images (a 16-bit PNG becomes all white). Instead the values are
    divided by their full scale (:func:`full_scale`) and rounded to 0..255; an image without a standard
    range is min-max scaled over its own finite values (NaN reads as its minimum).

    Examples:
        >>> import numpy as np
        >>> from PIL import Image
        >>> sixteen = Image.fromarray(np.array([[0, 257 * 100, 65535]], dtype=np.uint16))
        >>> np.asarray(to_8bit(sixteen)).tolist()
        [[0, 100, 255]]
    """
    if image.mode not in HIGH_DEPTH_MODES:
        return image
    values = np.asarray(image).astype(np.float64)
    scale = full_scale(values, floating=image.mode == "F")
    if scale is not None:
        scaled = values / scale
    else:
        finite = values[np.isfinite(values)]
        low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
        values = np.nan_to_num(values, nan=low, posinf=high, neginf=low)
        scaled = (values - low) / (high - low) if high > low else np.zeros_like(values)
    return Image.fromarray(np.round(np.clip(scaled, 0.0, 1.0) * 255).astype(np.uint8))


def load_image(path: Path) -> Image.Image:
    """Open, fully decode and bring an image to 8 bits per channel (what the model and overlays see).

    High-bit-depth single-channel images are rescaled by :func:`to_8bit`; 8-bit images are returned as
    stored (the transform converts them to RGB).

    Raises:
        DatasetError: If the file is missing, truncated or not an image.
    """
    return to_8bit(open_image(path))


def image_size_hw(path: Path) -> tuple[int, int]:
    """(height, width) of an image read from its header only (cheap)."""
    try:
        with Image.open(path) as image:
            width, height = image.size
    except _READ_ERRORS as exc:
        raise _unreadable(path, exc) from exc
    return height, width


def mask_values(mask: Image.Image) -> np.ndarray:
    """The (h, w) values of a mask image: palette masks by class index, colour masks by their largest
    channel, alpha channels ignored."""
    values = np.asarray(mask)
    if values.ndim == 3:
        if mask.mode in ("RGBA", "LA", "PA"):
            values = values[..., :-1]
        values = values.max(axis=2)
    return values


def mask_full_scale(values: np.ndarray) -> float:
    """The value of a fully anomalous pixel for the mask's storage: 1 (bool), 255 (8-bit), 65535 (16-bit),
    else the smallest of 1, 255, 65535 that holds the mask's maximum (its maximum beyond that)."""
    if values.dtype == np.bool_:
        return 1.0
    if values.dtype.kind == "u" and values.dtype.itemsize <= 2:
        return float(np.iinfo(values.dtype).max)
    top = float(values.max()) if values.size else 0.0
    floats = values.dtype.kind == "f"
    return next((s for s in ((1.0,) if floats else ()) + (255.0, 65535.0) if top <= s), top)


def mask_to_binary(mask: Image.Image, threshold: float | None = None) -> np.ndarray:
    """Binarise a mask image (see :func:`mask_values` for palette, colour and alpha masks).

    Args:
        mask: The decoded mask, with its stored values.
        threshold: None: a pixel is anomalous when its value is > 0 (clean 0/255 masks, VisA's class ids).
            A number ``t`` in [0, 1): anomalous when its value is > ``t`` times the full scale
            (:func:`mask_full_scale`, 255 for 8-bit masks), for lossy masks (JPEG, faint background).

    Examples:
        >>> import numpy as np
        >>> from PIL import Image
        >>> mask = Image.fromarray(np.array([[0, 3, 100, 250]], dtype=np.uint8))
        >>> mask_to_binary(mask).astype(int).tolist(), mask_to_binary(mask, 0.5).astype(int).tolist()
        ([[0, 1, 1, 1]], [[0, 0, 0, 1]])
    """
    values = mask_values(mask)
    if threshold is None:
        return values > 0
    return values > threshold * mask_full_scale(values)


FAINT_FRACTION = 0.1
"""Non-zero values below this fraction of the full scale are "faint" (JPEG ringing, a grey background)."""

MAX_GREY_LEVELS = 16
"""A mask with more distinct values than this is a grey-level picture rather than a label map."""


def lossy_mask_reason(mask: Image.Image) -> str | None:
    """Why a mask looks lossy under the ``> 0`` rule, or None for a clean one.

    Clean masks are 0/255 (MVTec-AD) or hold small class ids (VisA: 0 and 1..k). A mask is lossy when
    it holds faint non-zero values (below :data:`FAINT_FRACTION` of the full scale) next to bright ones
    (at least half the full scale), as JPEG ringing, anti-aliased edges and a faint non-zero
    background do, or when it holds more than :data:`MAX_GREY_LEVELS` distinct values.
    """
    values = mask_values(mask)
    if values.dtype == np.bool_ or values.size == 0:
        return None
    scale = mask_full_scale(values)
    if values.dtype.kind == "u" and values.dtype.itemsize <= 2:
        counts = np.bincount(values.ravel().astype(np.int64))
        levels = np.flatnonzero(counts)
    else:
        levels = np.unique(values)
    top = float(levels[-1])
    faint = levels[(levels > 0) & (levels < FAINT_FRACTION * scale)]
    if top >= 0.5 * scale and faint.size:
        return (
            f"holds faint values ({faint[0]:g}..{faint[-1]:g}) next to {top:g} of a full scale of {scale:g} "
            "(JPEG artefacts, anti-aliased edges or a non-zero background)"
        )
    if levels.size > MAX_GREY_LEVELS:
        return f"holds {levels.size} distinct grey levels"
    return None


def read_json(path: Path, what: str, missing_hint: str, invalid_hint: str) -> Any:
    """The parsed JSON file ``path`` (UTF-8, a byte-order mark allowed).

    Raises:
        DatasetError: One line naming ``what`` and ``path``, with ``missing_hint`` when the file does not
            exist and ``invalid_hint`` when it is not JSON.
    """
    if not path.is_file():
        raise DatasetError(f"{what} {path} does not exist; {missing_hint}")
    try:
        return json.loads(path.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DatasetError(f"{what} {path} is not valid JSON ({exc}); {invalid_hint}") from exc
