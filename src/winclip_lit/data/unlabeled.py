"""Unlabeled images to score (``predict``): decoded and resized in the dataloader workers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch.utils.data import Dataset

from winclip_lit.data.errors import DatasetError
from winclip_lit.data.io import load_image


class PredictImages(Dataset):
    """Images to score; an unreadable file gives an item with ``ok=False`` instead of stopping the run."""

    def __init__(self, files: list[Path], transform: Any, image_size: int) -> None:
        self.files, self.transform, self.image_size = files, transform, image_size

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> dict[str, Any]:
        path = self.files[index]
        try:
            image, ok, reason = self.transform(load_image(path)), True, ""
        except DatasetError as error:
            image, ok, reason = torch.zeros(3, self.image_size, self.image_size), False, str(error)
        return {"image": image, "image_path": str(path), "index": index, "ok": ok, "reason": reason}
