"""The test dataset: one record per image, decoded and resized in the dataloader workers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset

from winclip_lit.data.errors import DatasetError
from winclip_lit.data.io import load_image, mask_to_binary, open_image

EvalSize = tuple[int, int] | Literal["original"]


@dataclass(frozen=True)
class TestRecord:
    """One test image.

    Attributes:
        image: Image file.
        mask: Ground-truth mask file, or None for a normal image (or a folder dataset without masks).
        label: 0 normal, 1 anomalous.
        defect: Defect type ("good" for normal images).
        extra_masks: Further mask files of the same image, OR-ed with ``mask`` (MVTec LOCO stores one
            file per defect region).
    """

    __test__ = False  # not a pytest test class

    image: Path
    mask: Path | None
    label: int
    defect: str
    extra_masks: tuple[Path, ...] = ()


class AnomalyTestDataset(Dataset):
    """Test images of one category as the dicts the evaluation loop consumes.

    Each item is ``{"image": (3,S,S) float, "mask": (h,w) uint8 in {0,1}, "label": int, "image_path": str,
    "category": str, "index": int}``; ``(h, w)`` is the evaluation size.

    Args:
        records: The test images, in their fixed order.
        transform: PIL image -> normalised (3,S,S) tensor; must be picklable for worker processes.
        eval_size: (h, w) of the returned masks, or "original" for each image's native size.
        category: Category name stored in every item.
        mask_threshold: None for the ``> 0`` rule, or ``t`` in [0, 1): value > ``t`` x full scale
            (see :func:`~winclip_lit.data.io.mask_to_binary`).
    """

    __test__ = False  # not a pytest test class

    def __init__(
        self,
        records: Sequence[TestRecord],
        transform: Callable[[Image.Image], torch.Tensor],
        eval_size: EvalSize,
        category: str,
        mask_threshold: float | None = None,
    ) -> None:
        self.records = list(records)
        self.mask_threshold = mask_threshold
        self.transform = transform
        self.eval_size = eval_size
        self.category = category

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, index: int) -> dict[str, Any]:
        record = self.records[index]
        image = load_image(record.image)
        width, height = image.size
        out_h, out_w = (height, width) if self.eval_size == "original" else self.eval_size
        if record.mask is None:
            mask = torch.zeros((out_h, out_w), dtype=torch.uint8)
        else:
            mask = self._load_mask(record, (width, height), (out_w, out_h), self.mask_threshold)
        return {
            "image": self.transform(image),
            "mask": mask,
            "label": int(record.label),
            "image_path": str(record.image),
            "category": self.category,
            "defect_type": str(record.defect),
            "index": int(index),
        }

    @staticmethod
    def _load_mask(
        record: TestRecord, image_wh: tuple[int, int], out_wh: tuple[int, int], threshold: float | None
    ) -> torch.Tensor:
        binary = np.zeros(image_wh[::-1], dtype=np.uint8)
        for path in (record.mask, *record.extra_masks):
            mask_image = open_image(path)
            if mask_image.size != image_wh:
                raise DatasetError(
                    f"mask {path} is {mask_image.size[0]}x{mask_image.size[1]} (w x h) but its image "
                    f"{record.image} is {image_wh[0]}x{image_wh[1]}; a mask must have its image's size"
                )
            binary |= mask_to_binary(mask_image, threshold).astype(np.uint8)
        if out_wh != image_wh:
            binary = np.asarray(Image.fromarray(binary).resize(out_wh, Image.Resampling.NEAREST))
        return torch.from_numpy(np.array(binary, dtype=np.uint8, copy=True))
