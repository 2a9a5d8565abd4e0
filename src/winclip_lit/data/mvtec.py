"""MVTec-AD: ``root/<category>/{train/good, test/<defect>, ground_truth/<defect>/<stem>_mask.png}``."""

from __future__ import annotations

from pathlib import Path

from winclip_lit.data.base import AnomalyDataModule
from winclip_lit.data.dataset import TestRecord
from winclip_lit.data.errors import DatasetError
from winclip_lit.data.io import find_mask, list_images

MVTEC_CATEGORIES = (
    "bottle",
    "cable",
    "capsule",
    "carpet",
    "grid",
    "hazelnut",
    "leather",
    "metal_nut",
    "pill",
    "screw",
    "tile",
    "toothbrush",
    "transistor",
    "wood",
    "zipper",
)


class MVTecDataModule(AnomalyDataModule):
    """MVTec-AD test sets and k-shot references (drawn from ``train/good``).

    Args: see :class:`~winclip_lit.data.base.AnomalyDataModule`.
    """

    dataset_name = "MVTec-AD"
    known_categories = MVTEC_CATEGORIES
    download_hint = (
        "download and extract MVTec-AD there with winclip_lit.data.download_mvtec(root), "
        "or point root at the folder that holds bottle/, cable/, ..."
    )

    def _check_category(self, category: str) -> None:
        # train/good is the reference pool: only needed when references are drawn (k > 0).
        for sub in ("train/good", "test") if self.k_shot > 0 else ("test",):
            folder = self.root / category / sub
            if not folder.is_dir():
                raise DatasetError(
                    f"MVTec-AD folder {folder} does not exist; the dataset under {self.root} is incomplete, "
                    "re-extract it (download_mvtec) or choose other categories"
                )

    def _reference_pool(self, category: str) -> list[Path]:
        return list_images(self.root / category / "train" / "good", f"MVTec-AD {category} train/good")

    def _test_records(self, category: str) -> list[TestRecord]:
        test_dir = self.root / category / "test"
        records: list[TestRecord] = []
        for defect_dir in sorted((d for d in test_dir.iterdir() if d.is_dir()), key=lambda d: d.name):
            defect = defect_dir.name
            for image in list_images(defect_dir, f"MVTec-AD {category} test/{defect}"):
                if defect == "good":
                    records.append(TestRecord(image, None, 0, defect))
                    continue
                gt_dir = self.root / category / "ground_truth" / defect
                mask = find_mask(gt_dir, image.stem)
                if mask is None:
                    raise DatasetError(
                        f"test image {image} has no mask: expected {gt_dir / (image.stem + '_mask.png')}; "
                        "restore the ground_truth folder (re-extract the dataset)"
                    )
                records.append(TestRecord(image, mask, 1, defect))
        return records
