"""KolektorSDD2 datamodule: train/test folders with `_GT` masks, references from normal train images."""

from __future__ import annotations

import shutil

import pytest
from data_support import IMAGE_SIZE, check_references, check_test_set, raises_one_line

from winclip_lit.data import KSDD2DataModule
from winclip_lit.data.synthetic import make_ksdd2


@pytest.fixture(scope="module")
def ksdd2(tmp_path_factory):
    return make_ksdd2(
        tmp_path_factory.mktemp("ksdd2"), n_train_normal=6, n_train_defect=3, n_test_normal=4, n_test_defect=3
    )


def _dm(root, **kwargs) -> KSDD2DataModule:
    return KSDD2DataModule(root, image_size=IMAGE_SIZE, num_workers=0, **kwargs)


def test_counts_labels_and_masks(ksdd2) -> None:
    dm = _dm(ksdd2.root)
    cat = ksdd2.categories["ksdd2"]
    assert dm.categories == ["ksdd2"]
    records = dm.test_records("ksdd2")
    assert len(records) == 7 and sum(r.label for r in records) == 3
    assert all(r.image.parent.name == "test" for r in records)
    check_test_set(dm, "ksdd2", cat, cat.test_good)


def test_references_only_normal_train_images(ksdd2) -> None:
    cat = ksdd2.categories["ksdd2"]
    assert set(_dm(ksdd2.root, k_shot=1)._reference_pool("ksdd2")) == set(cat.train)
    tested = cat.test_good + cat.test_defect + cat.train_defect  # defective train images are never references
    check_references(lambda **kw: _dm(ksdd2.root, **kw), "ksdd2", cat.train, tested)
    assert all(n.startswith("train/") for n in _dm(ksdd2.root, k_shot=3).reference_names())


@pytest.mark.parametrize("suffix", ["_gt", "_GT"])
def test_mask_suffix_any_case(tmp_path, suffix) -> None:
    data = make_ksdd2(
        tmp_path, n_train_normal=2, n_train_defect=1, n_test_normal=2, n_test_defect=2, mask_suffix=suffix
    )
    cat = data.categories["ksdd2"]
    check_test_set(_dm(tmp_path, k_shot=1), "ksdd2", cat, cat.test_good)


def test_errors(ksdd2, tmp_path) -> None:
    raises_one_line(
        lambda: _dm(tmp_path / "none"),
        "KolektorSDD2 root",
        "does not exist",
        "download_dataset('ksdd2', root)",
    )
    raises_one_line(lambda: _dm(ksdd2.root, categories="ksdd"), "unknown KolektorSDD2 category 'ksdd'")
    root = shutil.copytree(ksdd2.root, tmp_path / "copy")
    image = sorted((root / "test").glob("*[0-9].png"))[0]
    (root / "test" / f"{image.stem}_GT.png").unlink()
    raises_one_line(lambda: _dm(root), f"KolektorSDD2 image {image} has no mask", f"{image.stem}_GT.png")
    shutil.rmtree(root / "train")
    raises_one_line(lambda: _dm(root, k_shot=1), f"KolektorSDD2 folder {root / 'train'} does not exist")
    shutil.rmtree(root / "test")
    (root / "test").mkdir()
    raises_one_line(lambda: _dm(root), "KolektorSDD2 category 'ksdd2' has no test images")
