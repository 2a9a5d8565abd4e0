"""DAGM 2007 (Wieler and Hahn, "Weakly Supervised Learning for Industrial Optical Inspection") as its
archives extract.

``root/Class1 ... Class10/{Train,Test}/`` hold grayscale ``NNNN.PNG`` images; ``<split>/Label/Labels.txt``
lists every image with its label, and ``<split>/Label/NNNN_label.PNG`` are the (weak, elliptical)
masks of the defective ones. The official ``Test`` folder is the test set. ``Train`` also holds
defective images, so the reference pool is the ``Train`` images labelled normal only.

``Labels.txt`` has a header line, then one tab-separated line per image:
``<index> <0|1> <image file> <0> <mask file or 0>``. Lines that do not parse (the header) are skipped;
a file with a byte-order mark or Windows line ends reads the same. Without a ``Labels.txt`` the label
comes from the masks: an image is defective when ``Label/<stem>_label.*`` exists. Folder names match
in any case (``Train``/``train``), and a class extracted one level deeper (``Class1/Class1/Train``) is
found too.
"""

from __future__ import annotations

import logging
from pathlib import Path

from winclip_lit.data.base import AnomalyDataModule
from winclip_lit.data.dataset import TestRecord
from winclip_lit.data.errors import DatasetError
from winclip_lit.data.io import FileIndex, find_child, has_suffix, is_image_file

log = logging.getLogger(__name__)

DAGM_CATEGORIES = tuple(f"Class{i}" for i in range(1, 11))
DAGM_MASK_SUFFIX = "_label"
DAGM_LABELS_FILE = "Labels.txt"
#: Where DAGM 2007 can be had (no single official archive URL with a known checksum).
DAGM_SOURCE = (
    "https://hci.iwr.uni-heidelberg.de/content/weakly-supervised-learning-industrial-optical-inspection "
    "(also on Zenodo, record 12750201, and Kaggle)"
)


def read_labels_file(path: Path) -> list[tuple[str, int, str | None]]:
    """The (image file, label, mask file or None) entries of a DAGM ``Labels.txt``, in file order.

    Raises:
        DatasetError: If the file lists no image at all.
    """
    text = path.read_text(encoding="utf-8-sig", errors="replace").replace("\ufeff", "")
    entries = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 3 or fields[1] not in ("0", "1"):
            continue  # the header line, blank lines
        mask = fields[4] if len(fields) > 4 and fields[4] != "0" else None
        entries.append((fields[2], int(fields[1]), mask))
    if not entries:
        raise DatasetError(
            f"DAGM label file {path} lists no image; expected tab-separated lines "
            "'<index> <0|1> <image> <0> <mask or 0>', re-extract the dataset"
        )
    return entries


class DAGMDataModule(AnomalyDataModule):
    """DAGM 2007 test sets (official ``Test`` folders) and k-shot references (normal ``Train`` images).

    Args: see :class:`~winclip_lit.data.base.AnomalyDataModule`.
    """

    dataset_name = "DAGM"
    known_categories = DAGM_CATEGORIES
    download_hint = (
        f"download DAGM 2007 from {DAGM_SOURCE} and point root at the folder that holds Class1/ ..."
    )

    def _split_dir(self, category: str, split: str) -> Path:
        folder = self.root / category
        nested = folder / category
        if not find_child(folder, split).is_dir() and find_child(nested, split).is_dir():
            folder = nested
        return find_child(folder, split)

    def _check_category(self, category: str) -> None:
        for split in ("Train", "Test") if self.k_shot > 0 else ("Test",):
            folder = self._split_dir(category, split)
            if not folder.is_dir():
                raise DatasetError(
                    f"DAGM folder {folder} does not exist; the dataset under {self.root} is incomplete, "
                    "re-extract it or choose other categories"
                )

    def _entries(self, folder: Path, label_dir: Path, masks: FileIndex) -> tuple[list, Path]:
        """The (image, label, mask name) entries of one split and the file or folder they came from."""
        if not label_dir.is_dir():
            raise DatasetError(
                f"DAGM folder {label_dir} does not exist; it holds {DAGM_LABELS_FILE} and the masks, "
                "re-extract the dataset"
            )
        labels_file = next(
            (p for p in label_dir.iterdir() if p.name.lower() == DAGM_LABELS_FILE.lower()), None
        )
        if labels_file is not None:
            return read_labels_file(labels_file), labels_file
        log.info("DAGM: no %s in %s; labels taken from the masks", DAGM_LABELS_FILE, label_dir)
        files = sorted(
            p for p in folder.iterdir() if is_image_file(p) and not has_suffix(p, DAGM_MASK_SUFFIX)
        )
        return [
            (p.name, int(masks.find(p.stem, (DAGM_MASK_SUFFIX,)) is not None), None) for p in files
        ], label_dir

    def _split_records(self, category: str, split: str, with_masks: bool) -> list[TestRecord]:
        """The images of one split; ``with_masks`` looks up (and requires) the defective images' masks."""
        folder = self._split_dir(category, split)
        label_dir = find_child(folder, "Label")
        masks = FileIndex(label_dir)
        images = FileIndex(folder)
        entries, source = self._entries(folder, label_dir, masks)
        records = []
        for name, label, mask_name in entries:
            image = images.get(name)
            if image is None:
                raise DatasetError(
                    f"DAGM image {folder / name} listed in {source} does not exist; re-extract the dataset"
                )
            if label == 0:
                records.append(TestRecord(image, None, 0, "good"))
                continue
            mask = None
            if with_masks:
                mask = (masks.get(mask_name) if mask_name else None) or masks.find(
                    image.stem, (DAGM_MASK_SUFFIX,)
                )
                if mask is None:
                    expected = label_dir / (mask_name or f"{image.stem}{DAGM_MASK_SUFFIX}.PNG")
                    raise DatasetError(
                        f"test image {image} has no mask: expected {expected}; re-extract the dataset"
                    )
            records.append(TestRecord(image, mask, 1, "defect"))
        return sorted(records, key=lambda r: r.image.name)

    def _test_records(self, category: str) -> list[TestRecord]:
        return self._split_records(category, "Test", with_masks=True)

    def _reference_pool(self, category: str) -> list[Path]:
        return [r.image for r in self._split_records(category, "Train", with_masks=False) if r.label == 0]
