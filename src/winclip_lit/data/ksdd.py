"""KolektorSDD (Tabernik et al., J. Intell. Manuf. 2020) as its archive extracts: no train/test split.

``root/kos01 ... kos50/`` each hold the surfaces of one electrical commutator: ``Part0.jpg`` ...
``Part7.jpg`` (grayscale) with ``Part0_label.bmp`` ... masks. An image is anomalous when its mask marks
any pixel. The release has no split, so a documented, seeded one is defined here: a share
``reference_split`` of the normal images (drawn with ``split_seed``) is held out as the reference pool
and never tested; every other image is tested. The held-out share is the same for every k-shot seed,
so zero- and few-shot runs with the same split see the same test set.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from winclip_lit.data.base import AnomalyDataModule
from winclip_lit.data.dataset import TestRecord
from winclip_lit.data.errors import DatasetError
from winclip_lit.data.io import FileIndex, has_suffix, is_image_file, mask_is_anomalous
from winclip_lit.data.sampling import hold_out

KSDD_CATEGORY = "ksdd"
KSDD_MASK_SUFFIX = "_label"
_ITEM = re.compile(r"kos\d+", re.IGNORECASE)


def mask_labelled_records(folder: Path, suffix: str, mask_ext: str, dataset: str) -> list[TestRecord]:
    """The images of ``folder`` (sorted), each labelled by its ``<stem><suffix>.*`` mask beside it: anomalous
    when the mask marks any pixel, else normal (KolektorSDD, KolektorSDD2).

    Raises:
        DatasetError: If an image has no mask (``mask_ext`` is the extension shown in the message).
    """
    index = FileIndex(folder)
    images = sorted(
        (p for p in folder.iterdir() if is_image_file(p) and not has_suffix(p, suffix)), key=lambda p: p.name
    )
    records = []
    for image in images:
        mask = index.find(image.stem, (suffix,))
        if mask is None:
            raise DatasetError(
                f"{dataset} image {image} has no mask: expected {folder / (image.stem + suffix + mask_ext)}; "
                "re-extract the dataset"
            )
        anomalous = mask_is_anomalous(mask)
        records.append(
            TestRecord(image, mask if anomalous else None, int(anomalous), "defect" if anomalous else "good")
        )
    return records


class KSDDDataModule(AnomalyDataModule):
    """KolektorSDD as one category ``ksdd``, with a seeded hold-out of normal images as reference pool.

    Args:
        root: The folder that holds ``kos01/`` ... ``kos50/``.
        categories: "all" or "ksdd" (the only category).
        reference_split: Share of the normal images held out as the reference pool, in [0, 1). 0 tests
            every image (zero-shot only).
        split_seed: Seed of the hold-out draw (kept apart from the k-shot ``seed``).
        **kwargs: Common options of :class:`~winclip_lit.data.base.AnomalyDataModule`.
    """

    dataset_name = "KolektorSDD"
    known_categories = (KSDD_CATEGORY,)
    download_hint = (
        "download and extract KolektorSDD there with winclip_lit.data.download_dataset('ksdd', root), or point root "
        "at the folder that holds kos01/ ... kos50/"
    )

    def __init__(
        self,
        root: str | Path,
        categories: Any = "all",
        reference_split: float = 0.2,
        split_seed: int = 0,
        **kwargs: Any,
    ) -> None:
        self.reference_split = float(reference_split)
        if not 0.0 <= self.reference_split < 1.0:
            raise DatasetError(f"reference_split={reference_split} must be in [0, 1); e.g. 0.2")
        if int(kwargs.get("k_shot", 0)) > 0 and self.reference_split == 0.0:
            raise DatasetError(
                f"KolektorSDD has no official split: k_shot={kwargs['k_shot']} needs reference_split > 0 "
                "(e.g. 0.2), the share of normal images held out of the test set as references"
            )
        self.split_seed = int(split_seed)
        self._split: tuple[list[TestRecord], list[Path]] | None = None
        super().__init__(root, categories, **kwargs)

    def _items(self) -> list[Path]:
        items = sorted(
            (p for p in self.root.iterdir() if p.is_dir() and _ITEM.fullmatch(p.name)), key=lambda p: p.name
        )
        if not items:
            raise DatasetError(
                f"KolektorSDD root {self.root} holds no kosNN folders; point root at the folder that "
                "holds kos01/ ... kos50/"
            )
        return items

    def _check_category(self, category: str) -> None:
        self._items()

    def _all_records(self) -> list[TestRecord]:
        """Every image of every part folder with its mask and the label its mask implies."""
        return [
            r
            for item in self._items()
            for r in mask_labelled_records(item, KSDD_MASK_SUFFIX, ".bmp", "KolektorSDD")
        ]

    def split(self) -> tuple[list[TestRecord], list[Path]]:
        """(test records, reference pool): the seeded hold-out of normal images described above."""
        if self._split is None:
            records = self._all_records()
            normals = [r.image for r in records if r.label == 0]
            _, held = hold_out(normals, self.reference_split, self.split_seed)
            held_set = set(held)
            self._split = ([r for r in records if r.image not in held_set], held)
        return self._split

    def _test_records(self, category: str) -> list[TestRecord]:
        return list(self.split()[0])

    def _reference_pool(self, category: str) -> list[Path]:
        return list(self.split()[1])
