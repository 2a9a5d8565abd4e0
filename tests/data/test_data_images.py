"""High-bit-depth images (16-bit, 12-bit in 16, 32-bit integer, float) are read by their real range.

The expected 8-bit values are computed here with NumPy from the pixel values that were written.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from winclip_lit.data.dataset import AnomalyTestDataset, TestRecord
from winclip_lit.data.io import load_image
from winclip_lit.model.preprocess import ImageTransform
from winclip_lit.reporting.overlays import panel


@pytest.fixture(scope="module")
def gray8() -> np.ndarray:
    """Dim noise (20..100) with a bright square, like the synthetic datasets."""
    rng = np.random.default_rng(0)
    image = rng.integers(20, 100, size=(48, 64), dtype=np.uint8)
    image[10:22, 30:42] = 255
    return image


def _save(array: np.ndarray, path: Path, mode: str | None = None) -> Path:
    image = (
        Image.fromarray(array) if mode is None else Image.frombytes(mode, array.shape[::-1], array.tobytes())
    )
    image.save(path)
    return path


def _mode(path: Path) -> str:
    with Image.open(path) as image:
        return image.mode


def _read8(path: Path) -> np.ndarray:
    """What the model's transform sees, as 8-bit grey levels."""
    return np.asarray(load_image(path).convert("L"))


def test_sixteen_bit_png_reads_as_its_eight_bit_original(tmp_path, gray8) -> None:
    path = _save(gray8.astype(np.uint16) * 257, tmp_path / "g16.png")
    assert _mode(path) == "I;16"
    np.testing.assert_array_equal(_read8(path), gray8)


def test_big_endian_sixteen_bit_tiff(tmp_path, gray8) -> None:
    path = _save((gray8.astype(np.uint16) * 257).astype(">u2"), tmp_path / "g16b.tif", "I;16B")
    assert _mode(path) == "I;16B"
    np.testing.assert_array_equal(_read8(path), gray8)


def test_twelve_bit_data_in_sixteen_bits_uses_the_twelve_bit_range(tmp_path, gray8) -> None:
    twelve = np.round(gray8.astype(np.float64) * 4095 / 255).astype(np.uint16)  # max 4095 < 4096
    path = _save(twelve, tmp_path / "g12.png")
    np.testing.assert_array_equal(_read8(path), gray8)


def test_float_image_in_unit_range(tmp_path, gray8) -> None:
    path = _save(gray8.astype(np.float32) / 255, tmp_path / "f.tif")
    assert _mode(path) == "F"
    np.testing.assert_array_equal(_read8(path), gray8)


def test_integer_image_of_zeros_and_ones_is_not_a_unit_range_image(tmp_path) -> None:
    values = np.zeros((8, 8), dtype=np.uint16)
    values[2:4, 2:4] = 1  # 8-bit range: 1 stays 1, not 255 as a float image in [0, 1] would
    np.testing.assert_array_equal(_read8(_save(values, tmp_path / "ones.png")), values.astype(np.uint8))


def test_int32_image_holding_eight_bit_values(tmp_path, gray8) -> None:
    path = _save(gray8.astype(np.int32), tmp_path / "i.tif")
    assert _mode(path) == "I"
    np.testing.assert_array_equal(_read8(path), gray8)


@pytest.mark.parametrize(("dtype", "scale", "offset"), [(np.int32, 1000, -70000), (np.float32, 3.5, -120.0)])
def test_values_outside_every_standard_range_are_min_max_scaled(
    tmp_path, gray8, dtype, scale, offset
) -> None:
    values = (gray8.astype(np.float64) * scale + offset).astype(dtype)
    path = _save(values, tmp_path / "wide.tif")
    low, high = float(values.min()), float(values.max())
    expected = np.round((values.astype(np.float64) - low) / (high - low) * 255).astype(np.uint8)
    np.testing.assert_array_equal(_read8(path), expected)


def test_sixteen_bit_copy_gets_the_same_scores(tmp_path, gray8, winclip) -> None:
    records = [
        TestRecord(_save(gray8, tmp_path / "g8.png"), None, 0, "good"),
        TestRecord(_save(gray8.astype(np.uint16) * 257, tmp_path / "g16.png"), None, 0, "good"),
    ]
    dataset = AnomalyTestDataset(records, ImageTransform(winclip.image_size), (48, 64), "bottle")
    images = torch.stack([dataset[i]["image"] for i in range(2)])
    winclip.set_class_name("bottle")
    out = winclip(images)
    assert abs(float(out.image_scores[0]) - float(out.image_scores[1])) < 1e-3
    assert float((out.anomaly_maps[0] - out.anomaly_maps[1]).abs().max()) < 1e-3


def test_overlay_shows_the_sixteen_bit_image(tmp_path, gray8) -> None:
    p8 = _save(gray8, tmp_path / "g8.png")
    p16 = _save(gray8.astype(np.uint16) * 257, tmp_path / "g16.png")
    zeros = np.zeros((48, 64), dtype=np.float32)
    np.testing.assert_array_equal(panel(p16, zeros, 0.5), panel(p8, zeros, 0.5))


def test_sixteen_bit_masks_keep_their_raw_values(tmp_path) -> None:
    image = _save(np.full((8, 8), 50, dtype=np.uint8), tmp_path / "img.png")
    raw = np.zeros((8, 8), dtype=np.uint16)
    raw[2:4, 2:4] = 1  # a class id 1 in a 16-bit mask must stay anomalous
    mask = _save(raw, tmp_path / "mask.png")
    dataset = AnomalyTestDataset([TestRecord(image, mask, 1, "d")], ImageTransform(32), (8, 8), "c")
    np.testing.assert_array_equal(dataset[0]["mask"].numpy(), (raw > 0).astype(np.uint8))


def test_one_list_of_image_extensions_also_read_without_torch() -> None:
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['torch'] = None\n"
        "from winclip_lit.data import io\n"
        "from winclip_lit.deploy import runtime\n"
        "from winclip_lit.reporting import predictions as predict_files\n"
        "assert predict_files.IMAGE_EXTENSIONS is io.IMAGE_EXTENSIONS, 'two lists'\n"
        "assert not hasattr(runtime, 'IMAGE_EXTENSIONS'), 'the runtime keeps a list of its own'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
