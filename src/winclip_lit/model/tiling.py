"""Scoring non-square images in overlapping square tiles (an option; the paper squashes every image).

The rule mirrors the tiling of mala-lab/WinCLIP (``datasets/mvtec_dataset.py``, ``tile_image``): the tile
side is the image's short side, tiles step along the long side by ``int(stride_fraction * side)`` pixels
(mala-lab: 0.8), and the last tile is aligned to the far edge. Here the image is first scaled so that its
short side is the model input size (aspect kept, :class:`~winclip_lit.model.preprocess.ImageTransform`
with ``keep_aspect``), then cut, so every tile is already a model input. Each tile is scored by WinCLIP
as an image of its own; the tile maps are averaged where tiles overlap, and the image score is the max
(or, as mala-lab does, the mean) over the distinct tiles.
"""

from __future__ import annotations

import torch

from winclip_lit.model.options import TILE_IMAGE_SCORES
from winclip_lit.model.windows import window_starts


def tile_starts(length: int, side: int, stride_fraction: float) -> list[int]:
    """Offsets of the square tiles along the long axis of a ``side`` x ``length`` image.

    Args:
        length: Long side of the image in pixels (>= ``side``).
        side: Tile side in pixels (the short side of the image).
        stride_fraction: Step between tiles as a fraction of ``side`` (in (0, 1]).

    Returns:
        Sorted distinct offsets; the last one is ``length - side`` (far edge).

    Examples:
        >>> tile_starts(360, 240, 0.8)  # a 1500 x 1000 image at 240 px: step 192, last tile at 120
        [0, 120]
        >>> tile_starts(240, 240, 0.8)
        [0]
    """
    if not 0.0 < stride_fraction <= 1.0:
        raise ValueError(f"tile_stride must be in (0, 1], got {stride_fraction}")
    return window_starts(length, side, max(1, int(stride_fraction * side)))


def long_axis(height: int, width: int) -> int:
    """Tensor axis (of a (..., H, W) tensor) along which a ``height`` x ``width`` image is tiled: -1 or -2."""
    return -1 if width >= height else -2


def cut_tiles(images: torch.Tensor, stride_fraction: float) -> torch.Tensor:
    """Square tiles of a batch of images (B, C, H, W) with min(H, W) = tile side: (B, T, C, side, side)."""
    height, width = images.shape[-2:]
    side, axis = min(height, width), long_axis(height, width)
    starts = tile_starts(max(height, width), side, stride_fraction)
    return torch.stack([images.narrow(axis, start, side) for start in starts], dim=1)


def merge_tile_maps(maps: torch.Tensor, canvas: tuple[int, int], stride_fraction: float) -> torch.Tensor:
    """Average (B, T, side, side) tile maps into (B, H, W) canvas maps wherever tiles overlap."""
    height, width = canvas
    side, axis = min(height, width), long_axis(height, width)
    starts = tile_starts(max(height, width), side, stride_fraction)
    if len(starts) != maps.shape[1]:
        raise ValueError(
            f"{maps.shape[1]} tile maps do not match the {len(starts)} tiles of a {canvas} image"
        )
    total = maps.new_zeros(maps.shape[0], height, width)
    count = maps.new_zeros(1, height, width)
    for tile, start in enumerate(starts):
        total.narrow(axis, start, side).add_(maps[:, tile])
        count.narrow(axis, start, side).add_(1.0)
    return total / count


def merge_tile_scores(scores: torch.Tensor, rule: str) -> torch.Tensor:
    """Image scores (B,) from tile scores (B, T): ``max`` or ``mean`` over tiles."""
    if rule == "max":
        return scores.amax(dim=1)
    if rule == "mean":
        return scores.mean(dim=1)
    raise ValueError(f"tile_image_score must be one of {TILE_IMAGE_SCORES}, got {rule!r}")
