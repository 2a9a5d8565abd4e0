"""MVTec AD 2 datamodule: test_public with its ground_truth inside, references from train/good."""

from __future__ import annotations

import shutil

import pytest
from data_support import IMAGE_SIZE, check_references, check_test_set, raises_one_line

from winclip_lit.data import MVTecAD2DataModule
from winclip_lit.data.synthetic import make_mvtec_ad2


@pytest.fixture(scope="module")
def ad2(tmp_path_factory):
    return make_mvtec_ad2(tmp_path_factory.mktemp("ad2"), categories=("can", "rice"))


def _dm(root, **kwargs) -> MVTecAD2DataModule:
    kwargs.setdefault("categories", "can,rice")
    return MVTecAD2DataModule(root, image_size=IMAGE_SIZE, num_workers=0, **kwargs)


def test_test_public_is_the_test_set(ad2) -> None:
    dm = _dm(ad2.root)
    for name, cat in ad2.categories.items():
        records = dm.test_records(name)
        assert all(
            r.image.parts[-3] == "test_public" and r.image.parent.name in ("good", "bad") for r in records
        )
        assert {r.defect for r in records} == {"good", "bad"}
        check_test_set(dm, name, cat, cat.test_good)


def test_references_only_train_good(ad2) -> None:
    cat = ad2.categories["can"]
    check_references(
        lambda **kw: _dm(ad2.root, categories="can", **kw), "can", cat.train, cat.test_good + cat.test_defect
    )


def test_unlabeled_private_splits(ad2) -> None:
    dm = _dm(ad2.root)
    for split in ("test_private", "test_private_mixed"):
        files = dm.unlabeled_files("can", split)
        assert [f.name for f in files] == ["000_regular.png", "001_regular.png"] and files[
            0
        ].parent.name == split
    raises_one_line(lambda: dm.unlabeled_files("can", "test_public"), "'test_public' is not an unlabeled")


def test_errors(ad2, tmp_path) -> None:
    root = shutil.copytree(ad2.root, tmp_path / "ad2")
    mask = root / "can" / "test_public" / "ground_truth" / "bad" / "001_regular_mask.png"
    mask.unlink()
    raises_one_line(lambda: _dm(root), "test image", "001_regular.png has no mask", str(mask))
    raises_one_line(lambda: _dm(tmp_path / "nowhere"), "MVTec AD 2 root", "mvtec-ad-2")
    raises_one_line(lambda: _dm(root, categories="bottle"), "unknown MVTec AD 2 category 'bottle'", "walnuts")
