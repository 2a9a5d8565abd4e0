"""Folder datamodule: held-out reference pool, masks by stem, several abnormal folders."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from winclip_lit.data import DatasetError, FolderDataModule
from winclip_lit.data.synthetic import box_mask

IMAGE_SIZE = 32


def _dm(data, **kwargs) -> FolderDataModule:
    root = Path(data) if isinstance(data, (str, Path)) else data.root
    kwargs.setdefault("abnormal_dirs", [str(root / "abnormal_0"), str(root / "abnormal_1")])
    kwargs.setdefault("mask_dir", str(root / "masks"))
    kwargs.setdefault("image_size", IMAGE_SIZE)
    kwargs.setdefault("num_workers", 0)
    return FolderDataModule(str(root / "normal"), **kwargs)


def test_split_counts_and_masks(folder) -> None:
    dm = _dm(folder, category="widget", k_shot=2, reference_split=0.2)
    cat = folder.categories["folder"]
    assert dm.categories == ["widget"] and dm.category == "widget" and dm.has_masks()
    dm.setup("test")
    items = [dm.test_dataset[i] for i in range(len(dm.test_dataset))]
    assert len(items) == 8 + 5  # 10 normal minus 2 held out, plus 3 + 2 anomalous
    assert sum(it["label"] for it in items) == 5
    pool = dm._reference_pool("widget")
    tested = {it["image_path"] for it in items}
    assert len(pool) == 2 and not {str(p) for p in pool} & tested
    assert set(dm.reference_files()) <= set(pool)
    for it in items:
        assert it["category"] == "widget"
        if it["label"]:
            box = cat.boxes[Path(it["image_path"])]
            want = box_mask(box, cat.size, (IMAGE_SIZE, IMAGE_SIZE))
            np.testing.assert_array_equal(it["mask"].numpy(), want)


def test_test_set_does_not_depend_on_kshot_seed(folder) -> None:
    a = _dm(folder, k_shot=1, seed=0)
    b = _dm(folder, k_shot=1, seed=9)
    assert a.test_records() == b.test_records()
    assert {p for s in range(8) for p in _dm(folder, k_shot=1, seed=s).reference_files()} == set(
        a._reference_pool("folder")
    )
    assert _dm(folder, split_seed=3).test_records() != a.test_records()


def test_plain_stem_masks_and_single_dir(tmp_path, folder) -> None:
    root = Path(shutil.copytree(folder.root, tmp_path / "f"))
    for mask in (root / "masks").iterdir():
        mask.rename(mask.with_name(mask.name.replace("_mask", "")))
    dm = _dm(root, abnormal_dirs=str(root / "abnormal_1"), reference_split=0.0)
    records = dm.test_records()
    assert len(records) == 10 + 2
    assert all(r.mask is not None and r.mask.name == f"{r.image.stem}.png" for r in records if r.label)


def test_without_masks_and_explicit_reference_dir(tmp_path, folder) -> None:
    refs = tmp_path / "refs"
    refs.mkdir()
    for path in sorted((folder.root / "normal").iterdir())[:3]:
        shutil.copy(path, refs / f"r_{path.name}")
    dm = _dm(folder, mask_dir=None, reference_dir=str(refs), k_shot=3)
    assert not dm.has_masks()
    assert len(dm.test_records()) == 10 + 5
    assert {p.parent for p in dm.reference_files()} == {refs}
    dm.setup()
    assert all(dm.test_dataset[i]["mask"].sum() == 0 for i in range(len(dm.test_dataset)))


def test_folder_errors(tmp_path, folder) -> None:
    root = Path(shutil.copytree(folder.root, tmp_path / "f"))
    (root / "masks" / "a0_01_mask.png").unlink()
    with pytest.raises(
        DatasetError, match=r"test image .*a0_01.png has no mask: expected .*masks/a0_01.png or"
    ):
        _dm(root)
    shutil.copy(root / "abnormal_0" / "a0_00.png", root / "abnormal_1" / "a0_00.png")
    shutil.copy(root / "masks" / "a0_00_mask.png", root / "masks" / "a0_01_mask.png")
    with pytest.raises(
        DatasetError, match=r"a0_00.png and .*abnormal_1/a0_00.png share the file stem 'a0_00'"
    ):
        _dm(root)
    assert len(_dm(root, mask_dir=None).test_records()) == 8 + 6  # without masks, stems may repeat
    (root / "empty").mkdir()
    with pytest.raises(DatasetError, match=r"anomalous images folder .*empty contains no images"):
        _dm(root, abnormal_dirs=[str(root / "empty")])
    with pytest.raises(DatasetError, match=r"normal images folder .*nowhere does not exist"):
        FolderDataModule(str(root / "nowhere"), [str(root / "abnormal_0")])
    with pytest.raises(DatasetError, match=r"reference_split=1.5 must be in \[0, 1\)"):
        _dm(root, reference_split=1.5)
    with pytest.raises(DatasetError, match=r"k_shot=3 is larger than the reference pool of 2"):
        _dm(root, mask_dir=None, k_shot=3)


def _one_line_error(build) -> str:
    with pytest.raises(DatasetError) as info:
        build()
    message = str(info.value)
    assert "\n" not in message
    return message


def test_normal_dir_among_abnormal_dirs_is_refused(folder) -> None:
    root = folder.root
    spelled_differently = str(root / "abnormal_0" / ".." / "normal")
    message = _one_line_error(
        lambda: _dm(folder, abnormal_dirs=[str(root / "abnormal_0"), spelled_differently], mask_dir=None)
    )
    assert str(root / "normal") in message and "normal and anomalous" in message


def test_same_abnormal_folder_twice_is_refused(folder) -> None:
    root = folder.root
    twice = [str(root / "abnormal_0"), str(root / "abnormal_1" / ".." / "abnormal_0")]
    message = _one_line_error(lambda: _dm(folder, abnormal_dirs=twice, mask_dir=None))
    assert str(root / "abnormal_0") in message and "twice" in message


def test_file_listed_under_two_labels_is_refused(tmp_path, folder) -> None:
    root = Path(shutil.copytree(folder.root, tmp_path / "f"))
    normal = sorted((root / "normal").iterdir())[0]
    (root / "abnormal_1" / "linked.png").symlink_to(normal)  # the same file, reached from another folder
    message = _one_line_error(lambda: _dm(root, mask_dir=None))
    assert str(normal) in message and "linked.png" in message


def test_reference_dir_spelled_differently_still_overlaps(folder) -> None:
    root = folder.root
    same = str(root / "abnormal_0" / ".." / "normal")
    dm = _dm(folder, reference_dir=same, k_shot=1, mask_dir=None)
    message = _one_line_error(lambda: dm.setup("test"))
    assert "is also a test image" in message
