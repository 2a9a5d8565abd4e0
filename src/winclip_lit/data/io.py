"""File listing and decoding helpers shared by the datamodules (each raises :class:`DatasetError`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from winclip_lit.data.errors import DatasetError

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


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
    return bool(mask_to_binary(load_image(path)).any())


def load_image(path: Path) -> Image.Image:
    """Open and fully decode an image.

    Raises:
        DatasetError: If the file is missing, truncated or not an image.
    """
    try:
        image = Image.open(path)
        image.load()
    except (OSError, UnidentifiedImageError, SyntaxError, ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DatasetError(
            f"cannot read image file {path} ({reason}); it is corrupt or not an image, "
            "replace it or remove it from the dataset"
        ) from exc
    return image


def image_size_hw(path: Path) -> tuple[int, int]:
    """(height, width) of an image read from its header only (cheap)."""
    try:
        with Image.open(path) as image:
            width, height = image.size
    except (OSError, UnidentifiedImageError, SyntaxError, ValueError) as exc:
        raise DatasetError(
            f"cannot read image file {path} ({exc}); it is corrupt or not an image, "
            "replace it or remove it from the dataset"
        ) from exc
    return height, width


def mask_to_binary(mask: Image.Image) -> np.ndarray:
    """Binarise a mask image: a pixel is anomalous when its value (or any colour channel) is > 0.

    Palette masks are read by their class index, alpha channels are ignored.
    """
    values = np.asarray(mask)
    if values.ndim == 3:
        if mask.mode in ("RGBA", "LA"):
            values = values[..., :-1]
        return values.max(axis=2) > 0
    return values > 0
