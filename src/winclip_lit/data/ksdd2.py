"""KolektorSDD2 (Bozic et al., Computers in Industry 2021) as its archive extracts.

``root/train/`` and ``root/test/`` hold ``<n>.png`` images (RGB) with ``<n>_GT.png`` masks; an image is
anomalous when its mask marks any pixel. The official test folder is the test set. The training folder
also holds defective images, so the reference pool is its images with empty masks only (defective
training images are never used).
"""

from __future__ import annotations

from pathlib import Path

from winclip_lit.data.base import AnomalyDataModule
from winclip_lit.data.dataset import TestRecord
from winclip_lit.data.errors import DatasetError
from winclip_lit.data.io import find_child
from winclip_lit.data.ksdd import mask_labelled_records

KSDD2_CATEGORY = "ksdd2"
KSDD2_MASK_SUFFIX = "_GT"


class KSDD2DataModule(AnomalyDataModule):
    """KolektorSDD2 as one category ``ksdd2``: the official test folder, references from normal
    training images.

    Args:
        root: The folder that holds ``train/`` and ``test/``.
        categories: "all" or "ksdd2" (the only category).
        **kwargs: Common options of :class:`~winclip_lit.data.base.AnomalyDataModule`.
    """

    dataset_name = "KolektorSDD2"
    known_categories = (KSDD2_CATEGORY,)
    download_hint = (
        "download and extract KolektorSDD2 there with winclip_lit.data.download_dataset('ksdd2', root), or point "
        "root at the folder that holds train/ and test/"
    )

    def _split_dir(self, split: str) -> Path:
        return find_child(self.root, split)

    def _check_category(self, category: str) -> None:
        for split in ("train", "test") if self.k_shot > 0 else ("test",):
            folder = self._split_dir(split)
            if not folder.is_dir():
                raise DatasetError(
                    f"KolektorSDD2 folder {folder} does not exist; the dataset under {self.root} is "
                    "incomplete, re-extract it (download_dataset('ksdd2', root))"
                )

    def _split_records(self, split: str) -> list[TestRecord]:
        return mask_labelled_records(self._split_dir(split), KSDD2_MASK_SUFFIX, ".png", "KolektorSDD2")

    def _test_records(self, category: str) -> list[TestRecord]:
        return self._split_records("test")

    def _reference_pool(self, category: str) -> list[Path]:
        return [r.image for r in self._split_records("train") if r.label == 0]
