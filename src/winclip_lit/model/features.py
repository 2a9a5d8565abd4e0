"""Prompt-independent image features: the unit that is encoded once, cached and scored many times."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch


@dataclass
class ImageFeatures:
    """L2-normalised features of a batch of images.

    Attributes:
        image: (B, D) image-scale embeddings (class token -> ln_post -> proj).
        windows: One (B, n_windows_s, D) tensor per window scale, in the order of the model's scales.
        patches: (B, g*g, C) final-layer patch tokens after ln_post (C = width, or D when projected).
    """

    image: torch.Tensor
    windows: tuple[torch.Tensor, ...]
    patches: torch.Tensor

    def __len__(self) -> int:
        return self.image.shape[0]

    def to(self, device: torch.device | str | None = None, dtype: torch.dtype | None = None) -> ImageFeatures:
        """Move (and optionally cast) every tensor."""
        return ImageFeatures(
            image=self.image.to(device=device, dtype=dtype),
            windows=tuple(w.to(device=device, dtype=dtype) for w in self.windows),
            patches=self.patches.to(device=device, dtype=dtype),
        )

    def __getitem__(self, index: int | slice | torch.Tensor) -> ImageFeatures:
        if isinstance(index, int):
            index = slice(index, index + 1)
        return ImageFeatures(
            image=self.image[index],
            windows=tuple(w[index] for w in self.windows),
            patches=self.patches[index],
        )

    @staticmethod
    def cat(items: Sequence[ImageFeatures]) -> ImageFeatures:
        """Concatenate features along the batch dimension."""
        if not items:
            raise ValueError("ImageFeatures.cat needs at least one item")
        return ImageFeatures(
            image=torch.cat([f.image for f in items]),
            windows=tuple(torch.cat(ws) for ws in zip(*(f.windows for f in items), strict=True)),
            patches=torch.cat([f.patches for f in items]),
        )
