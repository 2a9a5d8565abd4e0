"""Tiny synthetic datasets in the real MVTec-AD, VisA and folder layouts, for tests and benchmarks.

Every image is dim noise (values 20..100); an anomalous image has a bright (255) axis-aligned square
exactly where its mask is non-zero, so alignment can be checked after any resize.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

Box = tuple[int, int, int, int]  # top, left, bottom, right (exclusive) in pixels


@dataclass
class SyntheticCategory:
    """What was written for one category.

    Attributes:
        name: Category name.
        size: (height, width) of every image.
        grayscale: Whether the images are single-channel.
        train: Normal images of the reference pool (train/good or the CSV's train rows).
        test_good: Normal test images.
        test_defect: Anomalous test images.
        masks: Anomalous image -> its mask file.
        boxes: Anomalous image -> the bright square (top, left, bottom, right), exclusive bounds.
    """

    name: str
    size: tuple[int, int]
    grayscale: bool
    train: list[Path] = field(default_factory=list)
    test_good: list[Path] = field(default_factory=list)
    test_defect: list[Path] = field(default_factory=list)
    masks: dict[Path, Path] = field(default_factory=dict)
    boxes: dict[Path, Box] = field(default_factory=dict)


@dataclass
class SyntheticDataset:
    """A generated dataset: its root, categories and (VisA) split file."""

    root: Path
    categories: dict[str, SyntheticCategory]
    split_csv: Path | None = None


def _noise(rng: np.random.Generator, size: tuple[int, int], grayscale: bool) -> np.ndarray:
    shape = size if grayscale else (*size, 3)
    return rng.integers(20, 100, size=shape, dtype=np.uint8)


def _box(rng: np.random.Generator, size: tuple[int, int]) -> Box:
    h, w = size
    side = max(2, min(h, w) // 4)
    top = int(rng.integers(0, h - side + 1))
    left = int(rng.integers(0, w - side + 1))
    return top, left, top + side, left + side


def _save(array: np.ndarray, path: Path, **kwargs: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path, **kwargs)
    return path


def _write_anomaly(
    rng: np.random.Generator,
    category: SyntheticCategory,
    image_path: Path,
    mask_path: Path,
    mask_value: int,
    **save_kwargs: object,
) -> None:
    image = _noise(rng, category.size, category.grayscale)
    top, left, bottom, right = box = _box(rng, category.size)
    image[top:bottom, left:right] = 255
    mask = np.zeros(category.size, dtype=np.uint8)
    mask[top:bottom, left:right] = mask_value
    _save(image, image_path, **save_kwargs)
    _save(mask, mask_path)
    category.test_defect.append(image_path)
    category.masks[image_path] = mask_path
    category.boxes[image_path] = box


def box_mask(box: Box, src_hw: tuple[int, int], out_hw: tuple[int, int]) -> np.ndarray:
    """The (h, w) uint8 mask of ``box`` after a nearest-neighbour resize from ``src_hw`` to ``out_hw``.

    Computed independently of any imaging library (pixel-centre rule: the output pixel ``i`` takes
    the source pixel ``floor((i + 0.5) * src / out)``), so tests can check mask resizing against it.
    """
    rows = np.floor((np.arange(out_hw[0]) + 0.5) * src_hw[0] / out_hw[0]).astype(int)
    cols = np.floor((np.arange(out_hw[1]) + 0.5) * src_hw[1] / out_hw[1]).astype(int)
    top, left, bottom, right = box
    in_rows = (rows >= top) & (rows < bottom)
    in_cols = (cols >= left) & (cols < right)
    return (in_rows[:, None] & in_cols[None, :]).astype(np.uint8)


def make_mvtec(
    root: str | Path,
    categories: Sequence[str] = ("bottle",),
    n_train: int = 6,
    n_good_test: int = 3,
    n_defect: int = 3,
    size: tuple[int, int] = (48, 64),
    defects: Sequence[str] = ("broken", "crack"),
    grayscale: Sequence[str] = (),
    seed: int = 0,
) -> SyntheticDataset:
    """Write ``root/<category>/{train/good, test/<defect>, ground_truth/<defect>/<stem>_mask.png}``.

    Args:
        root: Dataset root (created).
        categories: Category folder names.
        n_train: Normal training images per category.
        n_good_test: Normal test images per category.
        n_defect: Anomalous images per defect type.
        size: (height, width) of the images.
        defects: Defect type folder names.
        grayscale: Categories written as single-channel images (like MVTec's grid, screw, zipper).
        seed: Seed of the pixel content.
    """
    root = Path(root)
    rng = np.random.default_rng(seed)
    out: dict[str, SyntheticCategory] = {}
    for name in categories:
        cat = SyntheticCategory(name, tuple(size), name in grayscale)
        base = root / name
        for i in range(n_train):
            cat.train.append(
                _save(_noise(rng, cat.size, cat.grayscale), base / "train" / "good" / f"{i:03d}.png")
            )
        for i in range(n_good_test):
            cat.test_good.append(
                _save(_noise(rng, cat.size, cat.grayscale), base / "test" / "good" / f"{i:03d}.png")
            )
        for defect in defects:
            for i in range(n_defect):
                image_path = base / "test" / defect / f"{i:03d}.png"
                mask_path = base / "ground_truth" / defect / f"{i:03d}_mask.png"
                _write_anomaly(rng, cat, image_path, mask_path, 255)
        out[name] = cat
    return SyntheticDataset(root, out)


def make_visa(
    root: str | Path,
    categories: Sequence[str] = ("candle",),
    n_train: int = 6,
    n_good_test: int = 3,
    n_defect: int = 3,
    size: tuple[int, int] = (48, 64),
    grayscale: Sequence[str] = (),
    mask_values: Sequence[int] = (1, 2, 3),
    seed: int = 0,
) -> SyntheticDataset:
    """Write the raw VisA layout ``root/<category>/Data/{Images,Masks}/{Normal,Anomaly}`` and
    ``root/split_csv/1cls.csv``.

    Images are JPEG (``.JPG``) like the release; masks are PNG holding small class ids
    (``mask_values``, cycled), not 0/255.
    """
    root = Path(root)
    rng = np.random.default_rng(seed)
    out: dict[str, SyntheticCategory] = {}
    rows: list[tuple[str, str, str, str, str]] = []
    for name in categories:
        cat = SyntheticCategory(name, tuple(size), name in grayscale)
        data = root / name / "Data"
        n_normal = n_train + n_good_test
        is_train = np.zeros(n_normal, dtype=bool)
        is_train[rng.permutation(n_normal)[:n_train]] = True
        for i in range(n_normal):
            path = _save(
                _noise(rng, cat.size, cat.grayscale), data / "Images" / "Normal" / f"{i:04d}.JPG", quality=95
            )
            (cat.train if is_train[i] else cat.test_good).append(path)
            split = "train" if is_train[i] else "test"
            rows.append((name, split, "normal", path.relative_to(root).as_posix(), ""))
        for i in range(n_defect):
            image_path = data / "Images" / "Anomaly" / f"{i:03d}.JPG"
            mask_path = data / "Masks" / "Anomaly" / f"{i:03d}.png"
            _write_anomaly(
                rng, cat, image_path, mask_path, int(mask_values[i % len(mask_values)]), quality=95
            )
            rows.append(
                (
                    name,
                    "test",
                    "anomaly",
                    image_path.relative_to(root).as_posix(),
                    mask_path.relative_to(root).as_posix(),
                )
            )
        out[name] = cat
    split_csv = root / "split_csv" / "1cls.csv"
    split_csv.parent.mkdir(parents=True, exist_ok=True)
    with split_csv.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(("object", "split", "label", "image", "mask"))
        writer.writerows(rows)
    return SyntheticDataset(root, out, split_csv)


def make_folder(
    root: str | Path,
    n_normal: int = 10,
    n_abnormal: Sequence[int] = (3,),
    size: tuple[int, int] = (48, 64),
    mask_suffix: str = "_mask",
    seed: int = 0,
) -> SyntheticDataset:
    """Write ``root/normal``, ``root/abnormal_<i>`` and ``root/masks/<stem><mask_suffix>.png``.

    Anomalous file stems are unique across the abnormal folders (``a<i>_<j>``). The returned category
    lists every normal image under ``train`` (the datamodule decides the held-out reference share).
    """
    root = Path(root)
    rng = np.random.default_rng(seed)
    cat = SyntheticCategory("folder", tuple(size), False)
    for i in range(n_normal):
        cat.train.append(_save(_noise(rng, cat.size, False), root / "normal" / f"{i:03d}.png"))
    for d, count in enumerate(n_abnormal):
        for j in range(count):
            image_path = root / f"abnormal_{d}" / f"a{d}_{j:02d}.png"
            _write_anomaly(rng, cat, image_path, root / "masks" / f"a{d}_{j:02d}{mask_suffix}.png", 255)
    return SyntheticDataset(root, {"folder": cat})
