"""Ground-truth regions: 8-connected components of each mask, labelled on the CPU with SciPy."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

# 3x3 ones in the image plane only: 8-connectivity inside an image, no link between images.
_STRUCTURE = np.zeros((3, 3, 3), dtype=bool)
_STRUCTURE[1] = True


def region_weights(masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Labels the regions of a stack of masks.

    Args:
        masks: Binary masks, shape (N, H, W), bool or {0, 1}.

    Returns:
        The weight 1 / (area of its region) of every anomalous pixel, in the row-major order of
        ``masks[masks]`` (float64), and the number of regions of each image (int64, shape (N,)).
    """
    mask = masks.astype(bool, copy=False)
    labels, n_regions = ndimage.label(mask, structure=_STRUCTURE)
    ids = labels[mask]
    del labels
    area = np.bincount(ids, minlength=n_regions + 1)
    weights = 1.0 / area[ids]
    image_of_pixel = np.repeat(np.arange(len(mask)), mask.reshape(len(mask), -1).sum(axis=1))
    image_of_region = np.zeros(n_regions + 1, dtype=np.int64)
    image_of_region[ids] = image_of_pixel
    return weights, np.bincount(image_of_region[1:], minlength=len(mask)).astype(np.int64)
