"""Every bad input raises one single-line DatasetError naming the path and the fix."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from winclip_lit.data import MVTEC_CATEGORIES, DatasetError, MVTecDataModule, VisADataModule, parse_eval_size
from winclip_lit.model.preprocess import ImageTransform

IMAGE_SIZE = 32


def _dm(root, **kwargs) -> MVTecDataModule:
    kwargs.setdefault("categories", "bottle")
    kwargs.setdefault("image_size", IMAGE_SIZE)
    kwargs.setdefault("num_workers", 0)
    return MVTecDataModule(root, **kwargs)


def _raises(fn, *fragments: str) -> str:
    with pytest.raises(DatasetError) as info:
        fn()
    message = str(info.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    return message


def _item_of(dm: MVTecDataModule, path: Path) -> dict:
    dm.setup("test")
    index = [str(r.image) for r in dm.test_dataset.records].index(str(path))
    return dm.test_dataset[index]


def test_missing_root(tmp_path) -> None:
    missing = tmp_path / "nope"
    _raises(
        lambda: _dm(missing), f"MVTec-AD root {missing} does not exist", "download_dataset('mvtec', root)"
    )
    _raises(
        lambda: VisADataModule(missing, image_size=IMAGE_SIZE),
        f"VisA root {missing} does not exist",
        "download_dataset('visa', root)",
    )


def test_unknown_category(mvtec) -> None:
    message = _raises(
        lambda: _dm(mvtec.root, categories=["bottle", "bottel"]), "unknown MVTec-AD category 'bottel'"
    )
    assert ", ".join(MVTEC_CATEGORIES) in message


def test_missing_category_folder(mvtec) -> None:
    _raises(lambda: _dm(mvtec.root, categories="screw"), "screw/test does not exist", "incomplete")
    _raises(lambda: _dm(mvtec.root, categories="screw", k_shot=1), "screw/train/good does not exist")


def test_test_image_without_mask(mvtec_copy) -> None:
    (mvtec_copy / "bottle" / "ground_truth" / "crack" / "001_mask.png").unlink()
    _raises(
        lambda: _dm(mvtec_copy),
        f"test image {mvtec_copy / 'bottle/test/crack/001.png'} has no mask",
        "ground_truth/crack/001_mask.png",
    )


def test_mask_size_mismatch(mvtec_copy) -> None:
    mask = mvtec_copy / "bottle" / "ground_truth" / "broken" / "000_mask.png"
    Image.fromarray(np.zeros((10, 12), dtype=np.uint8)).save(mask)
    dm = _dm(mvtec_copy)  # cheap validation passes; the size is checked when the sample is loaded
    _raises(
        lambda: _item_of(dm, mvtec_copy / "bottle/test/broken/000.png"),
        f"mask {mask} is 12x10 (w x h)",
        "is 64x48",
        "must have its image's size",
    )


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_corrupt_image(mvtec_copy, damage) -> None:
    path = mvtec_copy / "bottle" / "test" / "good" / "001.png"
    data = path.read_bytes()
    path.write_bytes(b"not an image at all" if damage == "garbage" else data[: len(data) // 2])
    dm = _dm(mvtec_copy, batch_size=16)
    _raises(lambda: next(iter(dm.test_dataloader())), f"cannot read image file {path}", "corrupt")


def test_image_over_pillows_size_limit_is_too_large_not_corrupt(mvtec_copy, monkeypatch) -> None:
    path = mvtec_copy / "bottle" / "test" / "good" / "001.png"  # 64 x 48 = 3072 pixels
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # Pillow refuses images over twice the limit
    dm = _dm(mvtec_copy, batch_size=16)
    message = _raises(
        lambda: next(iter(dm.test_dataloader())),  # the first file read (a probed mask) is named
        f"image file {mvtec_copy / 'bottle'}",
        "is too large",
        "3072 pixels",
        "PIL.Image.MAX_IMAGE_PIXELS",
    )
    assert "corrupt" not in message
    from winclip_lit.data.io import image_size_hw, load_image

    assert "corrupt" not in _raises(lambda: image_size_hw(path), f"image file {path} is too large")
    assert "corrupt" not in _raises(lambda: load_image(path), f"image file {path} is too large")


def _first_batch_error(root: Path, num_workers: int) -> DatasetError:
    loader = _dm(root, batch_size=16, num_workers=num_workers).test_dataloader()
    with pytest.raises(DatasetError) as info:  # the type is kept across processes
        next(iter(loader))
    return info.value


@pytest.mark.parametrize("damage", ["corrupt image", "mask size"])
def test_worker_errors_read_like_the_main_process_message(mvtec_copy, damage) -> None:
    if damage == "corrupt image":
        path = mvtec_copy / "bottle" / "test" / "crack" / "000.png"
        path.write_bytes(b"junk")
    else:
        path = mvtec_copy / "bottle" / "ground_truth" / "broken" / "001_mask.png"
        Image.fromarray(np.zeros((10, 12), dtype=np.uint8)).save(path)
    in_main = str(_first_batch_error(mvtec_copy, 0))
    in_worker = _first_batch_error(mvtec_copy, 1)
    assert str(in_worker) == in_main
    assert "\n" not in str(in_worker) and str(path) in str(in_worker)
    assert "Traceback" in in_worker.worker_traceback  # kept for debugging, never printed


def test_corrupt_reference_image(mvtec_copy) -> None:
    dm = _dm(mvtec_copy, k_shot=6)
    dm.reference_files()[0].write_bytes(b"\x89PNG broken")
    _raises(dm.reference_images, "cannot read image file", "train/good")


def test_empty_folders(mvtec_copy) -> None:
    for path in (mvtec_copy / "bottle" / "train" / "good").iterdir():
        path.unlink()
    assert _dm(mvtec_copy).reference_files() == []  # zero-shot does not need the train images
    _raises(lambda: _dm(mvtec_copy, k_shot=1), "train/good folder", "contains no images")
    shutil.rmtree(mvtec_copy / "bottle" / "test" / "crack")
    (mvtec_copy / "bottle" / "test" / "crack").mkdir()
    _raises(lambda: _dm(mvtec_copy), "test/crack folder", "contains no images")


def test_k_larger_than_pool(mvtec) -> None:
    _raises(
        lambda: _dm(mvtec.root, k_shot=7),
        "k_shot=7 is larger than the reference pool of 6 normal image(s)",
        str(mvtec.root / "bottle" / "train" / "good"),
        "use k_shot <= 6",
    )


def test_original_eval_size_needs_uniform_sizes(mvtec_copy) -> None:
    path = mvtec_copy / "bottle" / "test" / "good" / "002.png"
    Image.fromarray(np.zeros((40, 40, 3), dtype=np.uint8)).save(path)
    dm = _dm(mvtec_copy, eval_size="original")
    _raises(
        lambda: dm.setup("test"), "eval_size='original' needs one image size per category", "fixed eval_size"
    )
    dm_fixed = _dm(mvtec_copy, eval_size=[48, 64])
    dm_fixed.setup("test")
    assert len(dm_fixed.test_dataset) == 9


def test_bad_options(mvtec) -> None:
    _raises(lambda: parse_eval_size("big", 32), "eval_size='big' is invalid")
    _raises(lambda: parse_eval_size([1, 2, 3], 32), "is invalid")
    _raises(lambda: parse_eval_size(0, 32), "is invalid")
    assert parse_eval_size("64", 32) == (64, 64) and parse_eval_size("Original", 32) == "original"
    _raises(
        lambda: _dm(mvtec.root, transform=ImageTransform(64)), "transform resizes to 64 px but image_size=32"
    )
    _raises(lambda: _dm(mvtec.root, k_shot=-1), "k_shot must be >= 0")
    _raises(lambda: _dm(mvtec.root, categories=[]), "no MVTec-AD category given")
