"""Datasets in the MVTec-AD folder layout (MVTec-AD, MPDD, BTAD, DTD-Synthetic).

``root/<category>/train/<normal>/*``, ``root/<category>/test/<normal or defect>/*`` and
``root/<category>/ground_truth/<defect>/<stem>_mask.*`` (``<stem>.*`` is accepted too). Only the name
of the normal folder (``good``, BTAD's ``ok``) and the wording of the hints differ between the sets.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from winclip_lit.data.base import AnomalyDataModule
from winclip_lit.data.dataset import TestRecord
from winclip_lit.data.errors import DatasetError
from winclip_lit.data.io import find_mask, list_images


class MVTecLayoutDataModule(AnomalyDataModule):
    """Test sets and k-shot references (drawn from ``train/<normal>``) of an MVTec-AD-layout dataset.

    Subclasses set ``dataset_name``, ``known_categories``, ``download_hint`` and, where they differ
    from MVTec-AD, ``normal_dir`` (the normal folder in ``train/`` and ``test/``), ``mask_example``
    (the mask name shown in errors) and ``reextract_hint``.

    Args: see :class:`~winclip_lit.data.base.AnomalyDataModule`.
    """

    normal_dir: ClassVar[str] = "good"
    test_dir: ClassVar[str] = "test"
    ground_truth_dir: ClassVar[str] = "ground_truth"
    mask_example: ClassVar[str] = "{stem}_mask.png"
    reextract_hint: ClassVar[str] = "re-extract the dataset"

    def _check_category(self, category: str) -> None:
        # train/<normal> is the reference pool: only needed when references are drawn (k > 0).
        subs = (f"train/{self.normal_dir}", self.test_dir) if self.k_shot > 0 else (self.test_dir,)
        for sub in subs:
            folder = self.root / category / sub
            if not folder.is_dir():
                raise DatasetError(
                    f"{self.dataset_name} folder {folder} does not exist; the dataset under {self.root} is "
                    f"incomplete, {self.reextract_hint} or choose other categories"
                )

    def _reference_pool(self, category: str) -> list[Path]:
        folder = self.root / category / "train" / self.normal_dir
        return list_images(folder, f"{self.dataset_name} {category} train/{self.normal_dir}")

    def _test_records(self, category: str) -> list[TestRecord]:
        test_dir = self.root / category / self.test_dir
        gt_root = self.root / category / self.ground_truth_dir
        folders = sorted((d for d in test_dir.iterdir() if d.is_dir() and d != gt_root), key=lambda d: d.name)
        records: list[TestRecord] = []
        for defect_dir in folders:
            defect = defect_dir.name
            for image in list_images(defect_dir, f"{self.dataset_name} {category} {self.test_dir}/{defect}"):
                if defect == self.normal_dir:
                    records.append(TestRecord(image, None, 0, "good"))
                    continue
                records.append(self._anomalous_record(image, gt_root / defect, defect))
        return records

    def _anomalous_record(self, image: Path, gt_dir: Path, defect: str) -> TestRecord:
        """The record of an anomalous test image whose masks lie in ``gt_dir``."""
        mask = find_mask(gt_dir, image.stem)
        if mask is None:
            expected = gt_dir / self.mask_example.format(stem=image.stem)
            raise DatasetError(
                f"test image {image} has no mask: expected {expected}; "
                "restore the ground_truth folder (re-extract the dataset)"
            )
        return TestRecord(image, mask, 1, defect)
