"""Tiny synthetic datasets in the real on-disk layouts (MVTec-AD, VisA, MPDD, BTAD, KolektorSDD,
KolektorSDD2, DAGM 2007, DTD-Synthetic, plain folders), for tests and benchmarks.

Every image is dim noise (values 20..100); an anomalous image has a bright (255) axis-aligned square
exactly where its mask is non-zero, so alignment can be checked after any resize.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
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
        train: Normal images of the reference pool (train/good or the CSV's train rows); for sets
            without a split (KolektorSDD, folders) every normal image.
        test_good: Normal test images.
        test_defect: Anomalous test images.
        masks: Anomalous image -> its mask file.
        boxes: Anomalous image -> the bright square (top, left, bottom, right), exclusive bounds.
        train_defect: Defective images in a training folder (DAGM, KolektorSDD2); never tested.
        all_masks: Every mask file written, normal images' empty masks included (KolektorSDD(2)).
    """

    name: str
    size: tuple[int, int]
    grayscale: bool
    train: list[Path] = field(default_factory=list)
    test_good: list[Path] = field(default_factory=list)
    test_defect: list[Path] = field(default_factory=list)
    masks: dict[Path, Path] = field(default_factory=dict)
    boxes: dict[Path, Box] = field(default_factory=dict)
    train_defect: list[Path] = field(default_factory=list)
    all_masks: dict[Path, Path] = field(default_factory=dict)


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


def _anomaly(
    rng: np.random.Generator,
    category: SyntheticCategory,
    image_path: Path,
    mask_path: Path,
    mask_value: int,
    **save_kwargs: object,
) -> Box:
    """Write an image with a bright square and its mask; record both (not the split) in ``category``."""
    image = _noise(rng, category.size, category.grayscale)
    top, left, bottom, right = box = _box(rng, category.size)
    image[top:bottom, left:right] = 255
    mask = np.zeros(category.size, dtype=np.uint8)
    mask[top:bottom, left:right] = mask_value
    _save(image, image_path, **save_kwargs)
    _save(mask, mask_path)
    category.masks[image_path] = mask_path
    category.all_masks[image_path] = mask_path
    category.boxes[image_path] = box
    return box


def _write_anomaly(
    rng: np.random.Generator,
    category: SyntheticCategory,
    image_path: Path,
    mask_path: Path,
    mask_value: int,
    **save_kwargs: object,
) -> None:
    _anomaly(rng, category, image_path, mask_path, mask_value, **save_kwargs)
    category.test_defect.append(image_path)


def _good_images(
    rng: np.random.Generator,
    category: SyntheticCategory,
    train: Path,
    test: Path,
    counts: tuple[int, int],
    suffix: str = ".png",
    validation: Path | None = None,
) -> None:
    """Write a layout's normal images, ``<train>/000<suffix> ...`` (each followed by ``<validation>/000<suffix>``
    where the layout has a validation folder) then ``<test>/000<suffix> ...``; ``counts`` = (train, test)."""
    for i in range(counts[0]):
        category.train.append(_normal(rng, category, train / f"{i:03d}{suffix}"))
        if validation is not None:
            _normal(rng, category, validation / f"{i:03d}{suffix}")
    for i in range(counts[1]):
        category.test_good.append(_normal(rng, category, test / f"{i:03d}{suffix}"))


def _normal(
    rng: np.random.Generator,
    category: SyntheticCategory,
    image_path: Path,
    mask_path: Path | None = None,
    **save_kwargs: object,
) -> Path:
    """Write a normal image (and, where the layout has one, its empty mask)."""
    _save(_noise(rng, category.size, category.grayscale), image_path, **save_kwargs)
    if mask_path is not None:
        _save(np.zeros(category.size, dtype=np.uint8), mask_path)
        category.all_masks[image_path] = mask_path
    return image_path


def _jpeg_options(path: Path) -> dict[str, object]:
    return {"quality": 95} if path.suffix.lower() in (".jpg", ".jpeg") else {}


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
        _good_images(rng, cat, base / "train" / "good", base / "test" / "good", (n_train, n_good_test))
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


#: BTAD's (image, mask) extensions per product, as the release ships them.
BTAD_EXTENSIONS: dict[str, tuple[str, str]] = {
    "01": (".bmp", ".png"),
    "02": (".png", ".png"),
    "03": (".bmp", ".bmp"),
}


def make_mvtec_layout(
    root: str | Path,
    categories: Sequence[str],
    normal: str = "good",
    defects: Sequence[str] = ("bad",),
    n_train: int = 4,
    n_good_test: int = 2,
    n_defect: int = 2,
    size: tuple[int, int] = (40, 48),
    grayscale: Sequence[str] = (),
    extensions: Mapping[str, tuple[str, str]] | None = None,
    mask_suffix: str = "_mask",
    seed: int = 0,
) -> SyntheticDataset:
    """Write ``root/<category>/{train/<normal>, test/<normal>, test/<defect>, ground_truth/<defect>}``.

    Args:
        root: Dataset root (created).
        categories: Category folder names.
        normal: Name of the normal folder (``good``; BTAD: ``ok``).
        defects: Defect folder names.
        n_train: Normal training images per category.
        n_good_test: Normal test images per category.
        n_defect: Anomalous images per defect folder.
        size: (height, width) of the images.
        grayscale: Categories written as single-channel images.
        extensions: (image, mask) extension per category (default ``.png`` for both).
        mask_suffix: Mask name is ``<stem><mask_suffix><ext>`` (MVTec-AD, MPDD: ``_mask``; BTAD: ``""``).
        seed: Seed of the pixel content.
    """
    root = Path(root)
    rng = np.random.default_rng(seed)
    out: dict[str, SyntheticCategory] = {}
    for name in categories:
        image_ext, mask_ext = (extensions or {}).get(name, (".png", ".png"))
        cat = SyntheticCategory(name, tuple(size), name in grayscale)
        base = root / name
        _good_images(
            rng, cat, base / "train" / normal, base / "test" / normal, (n_train, n_good_test), image_ext
        )
        for defect in defects:
            for i in range(n_defect):
                image_path = base / "test" / defect / f"{i:03d}{image_ext}"
                mask_path = base / "ground_truth" / defect / f"{i:03d}{mask_suffix}{mask_ext}"
                _write_anomaly(rng, cat, image_path, mask_path, 255)
        out[name] = cat
    return SyntheticDataset(root, out)


def make_mpdd(
    root: str | Path, categories: Sequence[str] = ("bracket_black",), **kwargs: object
) -> SyntheticDataset:
    """MPDD: the MVTec-AD layout with RGB PNG images and ``<stem>_mask.png`` masks (defects ``hole``,
    ``scratches``). Keyword arguments as :func:`make_mvtec_layout`."""
    kwargs.setdefault("defects", ("hole", "scratches"))
    return make_mvtec_layout(root, categories, **kwargs)


def make_dtd_synthetic(
    root: str | Path, categories: Sequence[str] = ("Woven_001",), **kwargs: object
) -> SyntheticDataset:
    """DTD-Synthetic: the MVTec-AD layout with ``test/good``, ``test/bad`` and ``ground_truth/bad``.
    Keyword arguments as :func:`make_mvtec_layout` (``mask_suffix=""`` writes ``<stem>.png`` masks)."""
    kwargs.setdefault("defects", ("bad",))
    return make_mvtec_layout(root, categories, **kwargs)


def make_btad(
    root: str | Path, categories: Sequence[str] = ("01", "02", "03"), **kwargs: object
) -> SyntheticDataset:
    """BTAD: ``<product>/{train/ok, test/ok, test/ko, ground_truth/ko/<stem>.<ext>}`` with the release's
    per-product extensions (:data:`BTAD_EXTENSIONS`). Keyword arguments as :func:`make_mvtec_layout`."""
    kwargs.setdefault("extensions", BTAD_EXTENSIONS)
    kwargs.setdefault("mask_suffix", "")
    return make_mvtec_layout(root, categories, normal="ok", defects=("ko",), **kwargs)


def make_ksdd(
    root: str | Path,
    n_items: int = 4,
    n_parts: int = 4,
    defective: Sequence[tuple[int, int]] = ((0, 1), (2, 3)),
    size: tuple[int, int] = (60, 24),
    mask_suffix: str = "_label",
    seed: int = 0,
) -> SyntheticDataset:
    """KolektorSDD: ``root/kos01 ...`` with grayscale ``PartK.jpg`` and ``PartK<mask_suffix>.bmp`` masks
    (empty for normal images).

    Args:
        root: Dataset root (created).
        n_items: Number of ``kosNN`` folders.
        n_parts: Images per folder.
        defective: (item index, part index) pairs that get a defect.
        size: (height, width) of every image (the real ones are tall, about 1250 x 500).
        mask_suffix: Mask stem suffix.
        seed: Seed of the pixel content.

    Returns:
        One category ``ksdd``: every normal image in ``train`` (there is no split), the defective ones
        in ``test_defect``.
    """
    root = Path(root)
    rng = np.random.default_rng(seed)
    cat = SyntheticCategory("ksdd", tuple(size), True)
    bad = set(defective)
    for item in range(n_items):
        folder = root / f"kos{item + 1:02d}"
        for part in range(n_parts):
            image_path = folder / f"Part{part}.jpg"
            mask_path = folder / f"Part{part}{mask_suffix}.bmp"
            if (item, part) in bad:
                _write_anomaly(rng, cat, image_path, mask_path, 255, quality=95)
            else:
                cat.train.append(_normal(rng, cat, image_path, mask_path, quality=95))
    return SyntheticDataset(root, {"ksdd": cat})


def make_ksdd2(
    root: str | Path,
    n_train_normal: int = 5,
    n_train_defect: int = 2,
    n_test_normal: int = 3,
    n_test_defect: int = 2,
    size: tuple[int, int] = (60, 24),
    mask_suffix: str = "_GT",
    seed: int = 0,
) -> SyntheticDataset:
    """KolektorSDD2: ``root/{train,test}/<n>.png`` (RGB) with ``<n><mask_suffix>.png`` masks (empty for
    normal images); normal and defective images are interleaved in each folder.

    Returns:
        One category ``ksdd2``: ``train`` (normal training images), ``train_defect``, ``test_good``,
        ``test_defect``.
    """
    root = Path(root)
    rng = np.random.default_rng(seed)
    cat = SyntheticCategory("ksdd2", tuple(size), False)
    number = 10000
    for split, n_normal, n_defect in (
        ("train", n_train_normal, n_train_defect),
        ("test", n_test_normal, n_test_defect),
    ):
        is_defect = np.zeros(n_normal + n_defect, dtype=bool)
        is_defect[rng.permutation(n_normal + n_defect)[:n_defect]] = True
        for flag in is_defect:
            image_path = root / split / f"{number}.png"
            mask_path = root / split / f"{number}{mask_suffix}.png"
            number += 1
            if flag:
                _anomaly(rng, cat, image_path, mask_path, 255)
                (cat.train_defect if split == "train" else cat.test_defect).append(image_path)
            else:
                _normal(rng, cat, image_path, mask_path)
                (cat.train if split == "train" else cat.test_good).append(image_path)
    return SyntheticDataset(root, {"ksdd2": cat})


def make_dagm(
    root: str | Path,
    classes: Sequence[str] = ("Class1",),
    n_train_normal: int = 5,
    n_train_defect: int = 2,
    n_test_normal: int = 3,
    n_test_defect: int = 2,
    size: tuple[int, int] = (32, 32),
    labels_file: bool = True,
    seed: int = 0,
) -> SyntheticDataset:
    """DAGM 2007: ``root/<class>/{Train,Test}/NNNN.PNG`` (grayscale) with ``Label/NNNN_label.PNG`` masks
    for the defective images and ``Label/Labels.txt`` (a header line, then
    ``<index>\t<0|1>\t<image>\t0\t<mask or 0>`` per image, Windows line ends).

    Args:
        labels_file: Write ``Labels.txt`` (False: masks only).

    Returns:
        Per class: ``train`` (normal Train images), ``train_defect``, ``test_good``, ``test_defect``.
    """
    root = Path(root)
    rng = np.random.default_rng(seed)
    out: dict[str, SyntheticCategory] = {}
    for name in classes:
        cat = SyntheticCategory(name, tuple(size), True)
        for split, n_normal, n_defect in (
            ("Train", n_train_normal, n_train_defect),
            ("Test", n_test_normal, n_test_defect),
        ):
            folder = root / name / split
            is_defect = np.zeros(n_normal + n_defect, dtype=bool)
            is_defect[rng.permutation(n_normal + n_defect)[:n_defect]] = True
            lines = ["1"]
            for i, flag in enumerate(is_defect, start=1):
                image_path = folder / f"{i:04d}.PNG"
                if flag:
                    mask_name = f"{i:04d}_label.PNG"
                    _anomaly(rng, cat, image_path, folder / "Label" / mask_name, 255)
                    (cat.train_defect if split == "Train" else cat.test_defect).append(image_path)
                    lines.append(f"{i}\t1\t{image_path.name}\t0\t{mask_name}")
                else:
                    _normal(rng, cat, image_path)
                    (cat.train if split == "Train" else cat.test_good).append(image_path)
                    lines.append(f"{i}\t0\t{image_path.name}\t0\t0")
            (folder / "Label").mkdir(parents=True, exist_ok=True)
            if labels_file:
                (folder / "Label" / "Labels.txt").write_bytes(("\r\n".join(lines) + "\r\n").encode())
        out[name] = cat
    return SyntheticDataset(root, out)


def make_mvtec_ad2(
    root: str | Path,
    categories: Sequence[str] = ("can",),
    n_train: int = 4,
    n_good_test: int = 2,
    n_defect: int = 2,
    n_private: int = 2,
    size: tuple[int, int] = (40, 48),
    seed: int = 0,
) -> SyntheticDataset:
    """MVTec AD 2: ``<cat>/{train/good, validation/good, test_public/{good, bad, ground_truth/bad/<stem>_mask.png},
    test_private/*, test_private_mixed/*}`` (the private splits unlabeled, not recorded as test images)."""
    root = Path(root)
    rng = np.random.default_rng(seed)
    out: dict[str, SyntheticCategory] = {}
    for name in categories:
        cat = SyntheticCategory(name, tuple(size), False)
        base = root / name
        counts = (n_train, n_good_test)
        train, validation, test = (
            base / "train" / "good",
            base / "validation" / "good",
            base / "test_public" / "good",
        )
        _good_images(rng, cat, train, test, counts, "_regular.png", validation)
        for i in range(n_defect):
            stem = f"{i:03d}_regular"
            mask = base / "test_public" / "ground_truth" / "bad" / f"{stem}_mask.png"
            _write_anomaly(rng, cat, base / "test_public" / "bad" / f"{stem}.png", mask, 255)
        for split in ("test_private", "test_private_mixed"):
            for i in range(n_private):
                _normal(rng, cat, base / split / f"{i:03d}_regular.png")
        out[name] = cat
    return SyntheticDataset(root, out)


def make_mvtec_loco(
    root: str | Path,
    categories: Sequence[str] = ("juice_bottle",),
    n_train: int = 4,
    n_good_test: int = 2,
    n_defect: int = 2,
    size: tuple[int, int] = (40, 48),
    seed: int = 0,
) -> SyntheticDataset:
    """MVTec LOCO AD: ``<cat>/{train,validation}/good``, ``test/{good, logical_anomalies,
    structural_anomalies}`` and ``ground_truth/<type>/<id>/000.png, 001.png``: each square is split into
    a top and a bottom half stored in two mask files, so only their OR is the whole square."""
    root = Path(root)
    rng = np.random.default_rng(seed)
    out: dict[str, SyntheticCategory] = {}
    for name in categories:
        cat = SyntheticCategory(name, tuple(size), False)
        base = root / name
        counts = (n_train, n_good_test)
        train, validation, test = (
            base / "train" / "good",
            base / "validation" / "good",
            base / "test" / "good",
        )
        _good_images(rng, cat, train, test, counts, validation=validation)
        for kind in ("logical_anomalies", "structural_anomalies"):
            for i in range(n_defect):
                image = base / "test" / kind / f"{i:03d}.png"
                folder = base / "ground_truth" / kind / f"{i:03d}"
                top, left, bottom, right = _anomaly(rng, cat, image, folder / "000.png", 255)
                whole = np.asarray(Image.open(folder / "000.png")).copy()
                middle = (top + bottom) // 2
                upper, lower = whole.copy(), whole.copy()
                upper[middle:], lower[:middle] = 0, 0
                _save(upper, folder / "000.png")
                _save(lower, folder / "001.png")
                cat.test_defect.append(image)
        out[name] = cat
    return SyntheticDataset(root, out)


def make_realiad(
    root: str | Path,
    categories: Sequence[str] = ("audiojack",),
    resolution: str = "256",
    json_variant: str = "realiad_jsons",
    nested: bool = False,
    n_samples: int = 4,
    size: tuple[int, int] = (40, 48),
    seed: int = 0,
) -> SyntheticDataset:
    """Real-IAD: ``realiad_<resolution>/<cat>/{OK,NG}/S<n>/<view>.jpg`` (masks ``..._mask.png`` beside their
    images) and ``<json_variant>/<cat>.json`` (``nested``: ``<json_variant>/<json_variant>/``) with ``meta``,
    ``train`` and ``test``. Per category: ``n_samples`` normal samples (3 views: the first half train, the
    rest test) and two defective test samples whose view C1 shows the defect and C2 does not (label OK)."""
    root = Path(root)
    rng = np.random.default_rng(seed)
    json_dir = root / json_variant / json_variant if nested else root / json_variant
    out: dict[str, SyntheticCategory] = {}
    for name in categories:
        cat = SyntheticCategory(name, tuple(size), False)
        base = root / f"realiad_{resolution}" / name
        train, test = [], []
        for s in range(n_samples):
            for view in ("C1", "C2", "C3"):
                rel = f"OK/S{s:04d}/{name}_{s:04d}_OK_{view}.jpg"
                image = _normal(rng, cat, base / rel, quality=95)
                entry = {"category": name, "anomaly_class": "OK", "image_path": rel, "mask_path": None}
                (train if s < n_samples // 2 else test).append(entry)
                (cat.train if s < n_samples // 2 else cat.test_good).append(image)
        for s in range(n_samples, n_samples + 2):
            rel = f"NG/QS/S{s:04d}/{name}_{s:04d}_NG_QS_C1.jpg"
            mask_rel = rel[: -len(".jpg")] + ".png"
            _write_anomaly(rng, cat, base / rel, base / mask_rel, 255, quality=95)
            test.append({"category": name, "anomaly_class": "QS", "image_path": rel, "mask_path": mask_rel})
            hidden = f"NG/QS/S{s:04d}/{name}_{s:04d}_OK_C2.jpg"
            cat.test_good.append(_normal(rng, cat, base / hidden, quality=95))
            test.append({"category": name, "anomaly_class": "OK", "image_path": hidden, "mask_path": None})
        doc = {"meta": {"prefix": f"{name}/", "normal_class": "OK"}, "train": train, "test": test}
        json_dir.mkdir(parents=True, exist_ok=True)
        (json_dir / f"{name}.json").write_text(json.dumps(doc, indent=1), encoding="utf-8")
        out[name] = cat
    return SyntheticDataset(root, out)


def make_meta_json(
    root: str | Path,
    classes: Sequence[str] = ("brain",),
    n_train: int = 4,
    n_good_test: int = 2,
    n_defect: int = 2,
    masks: bool = True,
    prefixed: bool = False,
    normal_test: bool = True,
    train: bool = True,
    size: tuple[int, int] = (40, 48),
    seed: int = 0,
) -> SyntheticDataset:
    """A set described by ``root/meta.json``: ``<cls>/{train/good, test/good, test/bad, ground_truth/bad}``.

    Args:
        masks: Write masks (else ``mask_path`` is ``""``: an image-level set).
        prefixed: Write paths prefixed with the root folder's name (``<root name>/<cls>/...``), as some
            generator scripts do, instead of relative to the root.
        normal_test: Write normal test images (else every test image is anomalous).
        train: Write ``train`` entries (else the set is zero-shot only). A defective train entry is written
            too, which must never become a reference.
    """
    root = Path(root)
    rng = np.random.default_rng(seed)
    meta: dict[str, dict[str, list[dict[str, object]]]] = {"train": {}, "test": {}}
    out: dict[str, SyntheticCategory] = {}

    def rel(path: Path) -> str:
        relative = path.relative_to(root).as_posix()
        return f"{root.name}/{relative}" if prefixed else relative

    def entry(image: Path, mask: Path | None, anomaly: int, cls: str) -> dict[str, object]:
        specie = "bad" if anomaly else "good"
        mask_path = rel(mask) if mask is not None else ""
        return {
            "img_path": rel(image),
            "mask_path": mask_path,
            "cls_name": cls,
            "specie_name": specie,
            "anomaly": anomaly,
        }

    for name in classes:
        cat = SyntheticCategory(name, tuple(size), True)
        base = root / name
        tests = []
        for i in range(n_good_test if normal_test else 0):
            cat.test_good.append(_normal(rng, cat, base / "test" / "good" / f"{i:03d}.png"))
            tests.append(entry(cat.test_good[-1], None, 0, name))
        for i in range(n_defect):
            image, mask = (
                base / "test" / "bad" / f"{i:03d}.png",
                base / "ground_truth" / "bad" / f"{i:03d}.png",
            )
            _write_anomaly(rng, cat, image, mask, 255)
            if not masks:
                mask.unlink()
                del cat.masks[image], cat.all_masks[image]
            tests.append(entry(image, mask if masks else None, 1, name))
        meta["test"][name] = tests
        if train:
            trains = []
            for i in range(n_train):
                cat.train.append(_normal(rng, cat, base / "train" / "good" / f"{i:03d}.png"))
                trains.append(entry(cat.train[-1], None, 0, name))
            bad = base / "train" / "bad" / "000.png"
            _anomaly(rng, cat, bad, base / "train" / "bad_mask" / "000.png", 255)
            cat.train_defect.append(bad)
            del cat.masks[bad], cat.all_masks[bad], cat.boxes[bad]
            trains.append(entry(bad, None, 1, name))
            meta["train"][name] = trains
        out[name] = cat
    (root / "meta.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
    return SyntheticDataset(root, out)
