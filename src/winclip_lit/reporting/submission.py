"""The MVTec AD 2 benchmark's submission layout: a float16 TIFF map and a thresholded PNG per image.

For an image ``<dataset root>/<category>/<split>/<name>.png`` (``test_public`` keeps its ``good/``, ``bad/``
folder), the map goes to ``anomaly_images/<category>/<split>/<name>.tiff`` (float16, one channel, at the
image's own size: the model's map upsampled bilinearly, as the metrics do) and the binary map to
``anomaly_images_thresholded/<category>/<split>/<name>.png`` (uint8, 255 where the upsampled map is at or
above the pixel threshold, else 0), as MVTec's dataset class and ``check_and_prepare_data_for_upload.py``
expect. Both files are written atomically.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np

from winclip_lit.data.io import image_size_hw
from winclip_lit.files import write_bytes
from winclip_lit.reporting.overlays import resize_map, save_mask

SUBMISSION_DIR = "submission"
"""The folder of a run that holds the submission (the one to upload)."""
MAPS_DIR = "anomaly_images"
THRESHOLDED_DIR = "anomaly_images_thresholded"


def submission_paths(folder: Path, image: Path, dataset_root: Path) -> tuple[Path, Path]:
    """The (TIFF map, thresholded PNG) paths of ``image`` inside the submission ``folder``."""
    relative = Path(image).relative_to(dataset_root)
    return folder / MAPS_DIR / relative.with_suffix(".tiff"), folder / THRESHOLDED_DIR / relative.with_suffix(
        ".png"
    )


def write_submission_image(
    folder: Path, image: Path, dataset_root: Path, anomaly_map: Any, pixel_threshold: float
) -> tuple[Path, Path]:
    """Write the TIFF map and the thresholded PNG of one scored image; return their paths.

    Args:
        folder: The submission folder (``<run dir>/submission``).
        image: The scored image file (its size is read from the header).
        dataset_root: The dataset root that ``image`` lies under.
        anomaly_map: Its (H, W) anomaly map, at the model's or already at the image's size (array or CPU tensor).
        pixel_threshold: Pixels of the upsampled map at or above it are 255 in the PNG.
    """
    import tifffile

    tiff_path, png_path = submission_paths(folder, image, dataset_root)
    values = resize_map(anomaly_map, image_size_hw(Path(image)))
    buffer = io.BytesIO()  # tifffile wants a named file: encode in memory, then write atomically
    tifffile.imwrite(buffer, values.astype(np.float16))
    write_bytes(tiff_path, buffer.getvalue())
    save_mask(png_path, values >= pixel_threshold)
    return tiff_path, png_path
