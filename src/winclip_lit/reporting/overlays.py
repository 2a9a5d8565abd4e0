"""Anomaly-map pictures: the image, the map as a heat overlay with the above-threshold region outlined,
and the ground-truth mask when there is one."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib import colormaps
from PIL import Image
from scipy import ndimage

from winclip_lit.data.io import load_image
from winclip_lit.files import write_atomic

if TYPE_CHECKING:  # the PyTorch-free runtime (deploy) draws its overlays here too
    import torch

COLORMAP = "jet"
"""Map colours on a fixed [0, 1] scale (probabilities), so pictures of different images compare."""

OUTLINE = np.array([255, 255, 255], dtype=np.uint8)


def _source_pixels(n_out: int, n_in: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each output pixel: the two source pixels and the weight of the second (half-pixel centres)."""
    position = np.maximum((np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5, 0.0)
    first = np.minimum(np.floor(position).astype(np.int64), n_in - 1)
    second = np.minimum(first + 1, n_in - 1)
    return first, second, (position - first).astype(np.float32)


def resize_map(anomaly_map: Any, size: tuple[int, int]) -> np.ndarray:
    """An (H, W) map resized bilinearly to ``size`` = (h, w), without PyTorch.

    The same numbers as ``F.interpolate(mode="bilinear", align_corners=False)`` (half-pixel centres, no
    antialiasing), the resize the metrics apply to maps, so that an image's mask and submission map are cut
    from the map the evaluation scores.
    """
    values = np.asarray(anomaly_map, dtype=np.float32)
    if tuple(values.shape) == tuple(size):
        return values
    y0, y1, wy = _source_pixels(size[0], values.shape[0])
    x0, x1, wx = _source_pixels(size[1], values.shape[1])
    top = values[y0][:, x0] * (1 - wx) + values[y0][:, x1] * wx
    bottom = values[y1][:, x0] * (1 - wx) + values[y1][:, x1] * wx
    return (top * (1 - wy)[:, None] + bottom * wy[:, None]).astype(np.float32)


def heat(anomaly_map: np.ndarray) -> np.ndarray:
    """(H, W) probabilities -> (H, W, 3) uint8 colours on the fixed [0, 1] scale."""
    rgba = colormaps[COLORMAP](np.clip(anomaly_map, 0.0, 1.0))
    return (rgba[..., :3] * 255).astype(np.uint8)


def outline(region: np.ndarray) -> np.ndarray:
    """Boundary pixels (H, W) bool of a boolean region."""
    return region & ~ndimage.binary_erosion(region, iterations=2, border_value=0)


def panel(
    image_path: str | Path,
    anomaly_map: torch.Tensor | np.ndarray,
    threshold: float,
    mask: torch.Tensor | np.ndarray | None = None,
    alpha: float = 0.5,
) -> np.ndarray:
    """Side-by-side picture [image | map overlay with threshold outline | ground-truth mask].

    Args:
        image_path: The original image (shown at the map's size).
        anomaly_map: (H, W) anomaly probabilities in [0, 1].
        threshold: Pixels with probability >= threshold are outlined in white.
        mask: Optional (H, W) ground truth in {0, 1}; adds a third tile.
        alpha: Weight of the heat map in the overlay.

    Returns:
        (H, 2W or 3W, 3) uint8 RGB array.
    """
    values = np.asarray(anomaly_map, dtype=np.float32)
    height, width = values.shape
    image = np.asarray(
        load_image(Path(image_path)).convert("RGB").resize((width, height), Image.Resampling.BICUBIC)
    )
    overlay = ((1.0 - alpha) * image + alpha * heat(values)).astype(np.uint8)
    overlay[outline(values >= threshold)] = OUTLINE
    tiles = [image, overlay]
    if mask is not None:
        binary = np.asarray(mask).astype(bool)
        tiles.append(np.repeat((binary * 255).astype(np.uint8)[..., None], 3, axis=2))
    return np.concatenate(tiles, axis=1)


def save_panel(path: Path, picture: np.ndarray) -> Path:
    """Write a panel as PNG, atomically (a kill never leaves half a picture)."""
    return write_atomic(path, lambda handle: Image.fromarray(picture).save(handle, format="PNG"))


def save_mask(path: Path, region: np.ndarray) -> Path:
    """Write a boolean region as a binary PNG (255: anomalous, 0: normal), atomically."""
    picture = np.where(np.asarray(region, dtype=bool), 255, 0).astype(np.uint8)
    return write_atomic(path, lambda handle: Image.fromarray(picture).save(handle, format="PNG"))
