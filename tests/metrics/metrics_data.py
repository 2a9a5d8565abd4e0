"""Synthetic anomaly maps and masks for the metric tests (NumPy / SciPy only, cheap to import)."""

from __future__ import annotations

import numpy as np
from scipy import ndimage


def blob_data(
    rng: np.random.Generator, n: int, size: int, decimals: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Smooth anomaly maps in [0, 1] (float32) and blob masks (uint8) of various sizes, some all-normal."""
    noise = ndimage.gaussian_filter(rng.normal(size=(n, size, size)), sigma=(0, 3, 3))
    masks = (noise > np.quantile(noise, 0.93)).astype(np.uint8)
    masks[: max(1, n // 4)] = 0
    smooth = ndimage.gaussian_filter(masks.astype(float) + 0.6 * rng.random((n, size, size)), sigma=(0, 2, 2))
    maps = (smooth - smooth.min()) / (smooth.max() - smooth.min())
    if decimals is not None:
        maps = np.round(maps, decimals)
    return maps.astype(np.float32), masks
