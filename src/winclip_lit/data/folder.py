"""A user's own data: a folder of normal images, folders of anomalous ones, optional masks."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from winclip_lit.data.base import AnomalyDataModule
from winclip_lit.data.dataset import TestRecord
from winclip_lit.data.errors import DatasetError
from winclip_lit.data.io import find_mask, list_images
from winclip_lit.data.sampling import hold_out


def _as_list(value: str | os.PathLike | Iterable[str | os.PathLike]) -> list[Path]:
    if isinstance(value, (str, os.PathLike)):
        return [Path(value).expanduser()]
    return [Path(v).expanduser() for v in value]


def _check_unique_files(records: list[TestRecord]) -> None:
    """Refuse one file (after resolving links) listed twice, e.g. under both labels."""
    first: dict[Path, TestRecord] = {}
    for record in records:
        resolved = record.image.resolve()
        if resolved in first:
            other = first[resolved]
            labels = "normal and anomalous" if other.label != record.label else "twice"
            raise DatasetError(
                f"test images {other.image} and {record.image} are the same file, listed {labels}; "
                "remove the duplicate from the image folders"
            )
        first[resolved] = record


class FolderDataModule(AnomalyDataModule):
    """One category made of plain folders.

    Normal test images are ``normal_dir`` minus a seeded held-out share (``reference_split``) that
    forms the reference pool and is never tested; with ``reference_dir`` the pool is that folder
    instead and every image of ``normal_dir`` is tested. Masks are looked up in ``mask_dir`` by the
    anomalous image's file stem (``<stem>.png`` or ``<stem>_mask.png``); without ``mask_dir`` masks
    are all zeros and ``has_masks()`` is False (image-level metrics only).

    Args:
        normal_dir: Folder of normal images.
        abnormal_dirs: Folder or list of folders of anomalous images.
        mask_dir: Optional folder of masks for the anomalous images.
        category: Name of this category in results.
        reference_split: Share of ``normal_dir`` held out as the reference pool (0 <= share < 1).
        reference_dir: Optional explicit folder of normal reference images.
        split_seed: Seed of the hold-out draw (kept apart from ``seed`` so that the test set does not
            change across k-shot seeds).
        **kwargs: Common options of :class:`~winclip_lit.data.base.AnomalyDataModule` (``transform``,
            ``image_size``, ``eval_size``, ``k_shot``, ``seed``, ``batch_size``, ``num_workers``, ...).
    """

    dataset_name = "folder"
    download_hint = "point normal_dir at a folder of normal images"

    def __init__(
        self,
        normal_dir: str | Path,
        abnormal_dirs: str | Path | Iterable[str | Path],
        mask_dir: str | Path | None = None,
        category: str = "folder",
        reference_split: float = 0.2,
        reference_dir: str | Path | None = None,
        split_seed: int = 0,
        **kwargs: Any,
    ) -> None:
        self.normal_dir = Path(normal_dir).expanduser()
        self.abnormal_dirs = _as_list(abnormal_dirs)
        self.mask_dir = None if mask_dir is None else Path(mask_dir).expanduser()
        self.reference_dir = None if reference_dir is None else Path(reference_dir).expanduser()
        self.reference_split = float(reference_split)
        if not 0.0 <= self.reference_split < 1.0:
            raise DatasetError(f"reference_split={reference_split} must be in [0, 1); e.g. 0.2")
        self.split_seed = int(split_seed)
        self.known_categories = (str(category),)
        kwargs.pop("categories", None)
        super().__init__(self.normal_dir, categories=str(category), **kwargs)

    def _check_root(self) -> None:
        list_images(self.normal_dir, "normal images")
        if not self.abnormal_dirs:
            raise DatasetError("abnormal_dirs is empty; give at least one folder of anomalous images")
        for folder in self.abnormal_dirs:
            list_images(folder, "anomalous images")
        self._check_distinct_folders()
        if self.mask_dir is not None and not self.mask_dir.is_dir():
            raise DatasetError(f"mask folder {self.mask_dir} does not exist; fix mask_dir or set it to null")
        if self.reference_dir is not None:
            list_images(self.reference_dir, "reference images")

    def _check_distinct_folders(self) -> None:
        """Refuse ``normal_dir`` among ``abnormal_dirs`` or one abnormal folder given twice (resolved paths)."""
        normal = self.normal_dir.resolve()
        seen: dict[Path, Path] = {}
        for folder in self.abnormal_dirs:
            resolved = folder.resolve()
            if resolved == normal:
                raise DatasetError(
                    f"abnormal_dirs entry {folder} is normal_dir {self.normal_dir}: its images would be "
                    "tested as both normal and anomalous; remove it from abnormal_dirs"
                )
            if resolved in seen:
                raise DatasetError(
                    f"abnormal folder {resolved} is given twice in abnormal_dirs ({seen[resolved]} and "
                    f"{folder}); list each folder once"
                )
            seen[resolved] = folder

    def has_masks(self, category: str | None = None) -> bool:
        """True when a mask folder was given."""
        return self.mask_dir is not None

    def _split_normals(self) -> tuple[list[Path], list[Path]]:
        """(test normals, reference pool)."""
        normals = list_images(self.normal_dir, "normal images")
        if self.reference_dir is not None:
            return normals, list_images(self.reference_dir, "reference images")
        return hold_out(normals, self.reference_split, self.split_seed)

    def _reference_pool(self, category: str) -> list[Path]:
        return self._split_normals()[1]

    def _test_records(self, category: str) -> list[TestRecord]:
        normals, _ = self._split_normals()
        records = [TestRecord(p, None, 0, "good") for p in normals]
        seen: dict[str, Path] = {}
        for folder in self.abnormal_dirs:
            for image in list_images(folder, "anomalous images"):
                records.append(TestRecord(image, self._mask_of(image, seen), 1, folder.name))
        _check_unique_files(records)
        return records

    def _mask_of(self, image: Path, seen: dict[str, Path]) -> Path | None:
        if self.mask_dir is None:
            return None
        if image.stem in seen:
            raise DatasetError(
                f"anomalous images {seen[image.stem]} and {image} share the file stem {image.stem!r}, so "
                f"their masks in {self.mask_dir} cannot be told apart; rename one of them"
            )
        seen[image.stem] = image
        mask = find_mask(self.mask_dir, image.stem)
        if mask is None:
            raise DatasetError(
                f"test image {image} has no mask: expected {self.mask_dir / (image.stem + '.png')} or "
                f"{self.mask_dir / (image.stem + '_mask.png')}; add it or drop mask_dir"
            )
        return mask
