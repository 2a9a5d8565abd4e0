"""Mask binarisation: `> 0` for clean masks, a warning for lossy ones, and the `mask_threshold` option."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from winclip_lit.data import DatasetError, MVTecDataModule, VisADataModule
from winclip_lit.data.errors import DatasetWarning
from winclip_lit.data.synthetic import make_mvtec

SIZE = (48, 64)


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory):
    return make_mvtec(tmp_path_factory.mktemp("clean"), categories=("bottle", "grid"), size=SIZE)


def _dm(root: Path, **kwargs) -> MVTecDataModule:
    kwargs.setdefault("categories", ["bottle", "grid"])
    return MVTecDataModule(root, image_size=32, eval_size=list(SIZE), num_workers=0, **kwargs)


def _masks(dm: MVTecDataModule, category: str) -> dict[Path, np.ndarray]:
    dm.select(category).setup("test")
    items = [dm.test_dataset[i] for i in range(len(dm.test_dataset))]
    return {Path(it["image_path"]).relative_to(dm.root): it["mask"].numpy() for it in items if it["label"]}


def _expected(dataset, category: str) -> dict[Path, np.ndarray]:
    out = {}
    for image, (top, left, bottom, right) in dataset.categories[category].boxes.items():
        mask = np.zeros(SIZE, dtype=np.uint8)
        mask[top:bottom, left:right] = 1
        out[image.relative_to(dataset.root)] = mask
    return out


def _resave_masks(root: Path, how: str) -> list[Path]:
    """Rewrite every mask lossily: as JPEG (quality 95: only 8 grey levels) or with a faint background."""
    written = []
    for mask in sorted(root.glob("*/ground_truth/*/*_mask.png")):
        values = np.asarray(Image.open(mask))
        if how == "jpeg":
            target = mask.with_suffix(".jpg")
            Image.fromarray(values).save(target, quality=95)
            mask.unlink()
        else:
            target = mask
            Image.fromarray(np.where(values > 0, 255, 3).astype(np.uint8)).save(target)
        written.append(target)
    return written


def _collect(dm: MVTecDataModule) -> tuple[list[warnings.WarningMessage], dict[str, dict[Path, np.ndarray]]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        masks = {c: _masks(dm, c) for c in ("bottle", "grid", "bottle")}  # a category set up twice
    return [w for w in caught if issubclass(w.category, DatasetWarning)], masks


@pytest.mark.parametrize("how", ["jpeg", "faint background"])
def test_lossy_masks_warn_once_and_mask_threshold_recovers_them(clean, tmp_path, how) -> None:
    root = Path(shutil.copytree(clean.root, tmp_path / "mvtec"))
    written = _resave_masks(root, how)
    caught, masks = _collect(_dm(root))
    assert len(caught) == 1  # once per dataset, whatever the number of categories and set-ups
    message = str(caught[0].message)
    assert "\n" not in message and "mask_threshold" in message
    assert any(str(path) in message for path in written)
    inflated = sum(m.sum() for m in masks["bottle"].values())
    assert inflated > 1.3 * sum(m.sum() for m in _expected(clean, "bottle").values())  # the problem

    caught, masks = _collect(_dm(root, mask_threshold=0.5))
    assert caught == []  # the user chose a threshold
    for category in ("bottle", "grid"):
        expected = _expected(clean, category)
        assert masks[category].keys() == expected.keys()
        for key, mask in masks[category].items():
            np.testing.assert_array_equal(mask, expected[key])


def test_clean_masks_do_not_warn(clean, tmp_path) -> None:
    from winclip_lit.data.synthetic import make_visa

    visa = make_visa(tmp_path / "visa", categories=("candle",), size=SIZE)  # class ids 1..3
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for category in ("bottle", "grid"):
            _masks(_dm(clean.root), category)
        dm = VisADataModule(visa.root, categories="candle", image_size=32, num_workers=0)
        dm.setup("test")
        labels = [dm.test_dataset[i] for i in range(len(dm.test_dataset))]
    assert not [w for w in caught if issubclass(w.category, DatasetWarning)]
    assert all(it["mask"].sum() > 0 for it in labels if it["label"])  # class ids 1..3 stay anomalous


def test_threshold_is_a_fraction_of_the_full_scale(clean, tmp_path) -> None:
    root = Path(shutil.copytree(clean.root, tmp_path / "mvtec"))
    mask_path = root / "bottle" / "ground_truth" / "broken" / "000_mask.png"
    values = np.zeros(SIZE, dtype=np.uint8)
    values[0:10, 0:10], values[20:30, 20:30] = 100, 200
    Image.fromarray(values).save(mask_path)
    for threshold, expected in [(None, values > 0), (0.5, values > 127.5), (0.39, values > 99.45)]:
        dm = _dm(root, categories="bottle", mask_threshold=threshold)
        dm.setup("test")
        index = [r.mask for r in dm.test_dataset.records].index(mask_path)
        np.testing.assert_array_equal(dm.test_dataset[index]["mask"].numpy(), expected.astype(np.uint8))


@pytest.mark.parametrize("bad", [-0.1, 1.0, 2, "half", True])
def test_bad_mask_threshold(clean, bad) -> None:
    with pytest.raises(
        DatasetError, match=r"^mask_threshold=.* must be null or a number in \[0, 1\)"
    ) as info:
        _dm(clean.root, mask_threshold=bad)
    assert "\n" not in str(info.value)


def test_lossy_mask_warning_prints_as_one_plain_line(clean, tmp_path) -> None:
    import subprocess
    import sys

    root = Path(shutil.copytree(clean.root, tmp_path / "mvtec"))
    _resave_masks(root, "jpeg")
    code = (
        "import sys\n"
        "from winclip_lit.data import MVTecDataModule\n"
        "MVTecDataModule(sys.argv[1], categories='bottle', image_size=32, num_workers=0).setup('test')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(root)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if "lossy" in line]
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"DatasetWarning: MVTec-AD mask {root / 'bottle'}"), lines[0]
    assert "lightning_utilities" not in done.stderr and ".py:" not in done.stderr, done.stderr
