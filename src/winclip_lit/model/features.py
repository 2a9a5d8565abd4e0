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
        patches: (B, g*g, C) final-layer patch features (C = width, or D when projected).
        canvas: None for square images. For images scored in T square tiles (``WinCLIP(tiling=True)``):
            (B, 2) int64 (height, width) of each preprocessed image, and every tensor above has a tile
            axis after the batch axis: image (B, T, D), windows (B, T, n, D), patches (B, T, g*g, C).
    """

    image: torch.Tensor
    windows: tuple[torch.Tensor, ...]
    patches: torch.Tensor
    canvas: torch.Tensor | None = None

    def __len__(self) -> int:
        return self.image.shape[0]

    @property
    def num_tiles(self) -> int:
        """Square tiles per image (1 for square images)."""
        return 1 if self.canvas is None else self.image.shape[1]

    def to(self, device: torch.device | str | None = None, dtype: torch.dtype | None = None) -> ImageFeatures:
        """Move (and optionally cast) every tensor; the integer ``canvas`` is only moved."""
        return ImageFeatures(
            image=self.image.to(device=device, dtype=dtype),
            windows=tuple(w.to(device=device, dtype=dtype) for w in self.windows),
            patches=self.patches.to(device=device, dtype=dtype),
            canvas=None if self.canvas is None else self.canvas.to(device=device),
        )

    def __getitem__(self, index: int | slice | torch.Tensor) -> ImageFeatures:
        if isinstance(index, int):
            index = slice(index, index + 1)
        return ImageFeatures(
            image=self.image[index],
            windows=tuple(w[index] for w in self.windows),
            patches=self.patches[index],
            canvas=None if self.canvas is None else self.canvas[index],
        )

    def tiles(self) -> ImageFeatures:
        """The tiles as a batch of B*T square-image features (image-major); self when not tiled."""
        if self.canvas is None:
            return self
        return ImageFeatures(
            image=self.image.flatten(0, 1),
            windows=tuple(w.flatten(0, 1) for w in self.windows),
            patches=self.patches.flatten(0, 1),
        )

    @staticmethod
    def cat(items: Sequence[ImageFeatures]) -> ImageFeatures:
        """Concatenate features along the batch dimension."""
        if not items:
            raise ValueError("ImageFeatures.cat needs at least one item")
        tiled = {f.canvas is None for f in items}
        if len(tiled) > 1:
            raise ValueError("cannot concatenate features of square and tiled images")
        return ImageFeatures(
            image=torch.cat([f.image for f in items]),
            windows=tuple(torch.cat(ws) for ws in zip(*(f.windows for f in items), strict=True)),
            patches=torch.cat([f.patches for f in items]),
            canvas=None if items[0].canvas is None else torch.cat([f.canvas for f in items]),
        )
