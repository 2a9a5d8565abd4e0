"""MVTec AD 2 (Heckler-Kram et al., 2025) in its release layout.

``root/<category>/{train/good, validation/good, test_public/{good, bad, ground_truth/bad/<stem>_mask.png},
test_private/*, test_private_mixed/*}``. The labelled ``test_public`` split is evaluated; the private
splits carry no labels and are scored on the benchmark server (:meth:`MVTecAD2DataModule.unlabeled_files`
lists them for ``predict``).
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from winclip_lit.data.errors import DatasetError
from winclip_lit.data.io import list_images
from winclip_lit.data.mvtec_layout import MVTecLayoutDataModule

MVTEC_AD2_CATEGORIES = ("can", "fabric", "fruit_jelly", "rice", "sheet_metal", "vial", "wallplugs", "walnuts")
MVTEC_AD2_PRIVATE_SPLITS = ("test_private", "test_private_mixed")
"""The unlabeled test splits, scored on the benchmark server only."""
#: Where MVTec AD 2 can be had: the download form on MVTec's page (CC BY-NC-SA 4.0).
MVTEC_AD2_SOURCE = "https://www.mvtec.com/research-teaching/datasets/mvtec-ad-2"


class MVTecAD2DataModule(MVTecLayoutDataModule):
    """MVTec AD 2 ``test_public`` sets and k-shot references (drawn from ``train/good``).

    Args: see :class:`~winclip_lit.data.base.AnomalyDataModule`.
    """

    dataset_name = "MVTec AD 2"
    known_categories = MVTEC_AD2_CATEGORIES
    test_dir = "test_public"
    ground_truth_dir = "test_public/ground_truth"
    download_hint = (
        f"download MVTec AD 2 from {MVTEC_AD2_SOURCE}, extract it and point root at the folder that holds "
        "can/, fabric/, ..."
    )
    reextract_hint = "re-extract it"
    submission_splits: ClassVar[tuple[str, ...]] = (*MVTEC_AD2_PRIVATE_SPLITS, "test_public")
    """Splits that ``predict predict.split=...`` writes in the benchmark's submission layout
    (``test_public`` for a local dry run)."""

    def unlabeled_files(self, category: str, split: str = "test_private") -> list[Path]:
        """The images of an unlabeled split (``test_private`` or ``test_private_mixed``), sorted."""
        if split not in MVTEC_AD2_PRIVATE_SPLITS:
            raise DatasetError(
                f"MVTec AD 2 split {split!r} is not an unlabeled test split; use one of "
                f"{', '.join(MVTEC_AD2_PRIVATE_SPLITS)}"
            )
        return list_images(self.root / self._validate(category) / split, f"MVTec AD 2 {category} {split}")

    def submission_files(self, category: str, split: str) -> list[Path]:
        """The images of a split in :attr:`submission_splits`, sorted (``test_public``: its test images)."""
        if split == self.test_dir:
            return sorted(record.image for record in self.test_records(self._validate(category)))
        return self.unlabeled_files(category, split)
