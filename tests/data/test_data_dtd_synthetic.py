"""DTD-Synthetic datamodule: MVTec-AD layout with test/bad; both mask namings of public descriptions."""

from __future__ import annotations

import shutil

import pytest
from data_support import IMAGE_SIZE, check_references, check_test_set, raises_one_line

from winclip_lit.data import DTD_SYNTHETIC_CATEGORIES, DTDSyntheticDataModule
from winclip_lit.data.synthetic import make_dtd_synthetic


@pytest.fixture(scope="module")
def dtd(tmp_path_factory):
    return make_dtd_synthetic(
        tmp_path_factory.mktemp("dtd"), ("Woven_001", "Mesh_114"), n_train=4, n_good_test=2, n_defect=3
    )


def _dm(root, **kwargs) -> DTDSyntheticDataModule:
    kwargs.setdefault("categories", "Woven_001,Mesh_114")
    return DTDSyntheticDataModule(root, image_size=IMAGE_SIZE, num_workers=0, **kwargs)


def test_counts_labels_and_masks(dtd) -> None:
    dm = _dm(dtd.root)
    assert dm.categories == ["Woven_001", "Mesh_114"]
    for name in dm.categories:
        cat = dtd.categories[name]
        assert len(dm.test_records(name)) == 5 and sum(r.label for r in dm.test_records(name)) == 3
        assert {r.defect for r in dm.test_records(name)} == {"good", "bad"}
        check_test_set(dm, name, cat, cat.test_good)


@pytest.mark.parametrize("suffix", ["", "_mask"])
def test_plain_and_suffixed_mask_names(tmp_path, suffix) -> None:
    data = make_dtd_synthetic(
        tmp_path, ("Marbled_078",), mask_suffix=suffix, n_train=2, n_good_test=1, n_defect=2
    )
    assert {m.name for m in data.categories["Marbled_078"].masks.values()} == {
        f"000{suffix}.png",
        f"001{suffix}.png",
    }
    cat = data.categories["Marbled_078"]
    check_test_set(_dm(tmp_path, categories="Marbled_078"), "Marbled_078", cat, cat.test_good)


def test_references_only_from_train_good(dtd) -> None:
    cat = dtd.categories["Mesh_114"]
    check_references(
        lambda **kw: _dm(dtd.root, categories="Mesh_114", **kw), "Mesh_114", cat.train, cat.test_good
    )


def test_errors(dtd, tmp_path) -> None:
    raises_one_line(
        lambda: _dm(tmp_path / "none"), "DTD-Synthetic root", "does not exist", "drive.google.com"
    )
    message = raises_one_line(lambda: _dm(dtd.root, categories="woven_001"), "unknown DTD-Synthetic category")
    assert ", ".join(DTD_SYNTHETIC_CATEGORIES) in message
    root = shutil.copytree(dtd.root, tmp_path / "copy")
    (root / "Mesh_114/ground_truth/bad/002_mask.png").unlink()
    raises_one_line(lambda: _dm(root), f"test image {root / 'Mesh_114/test/bad/002.png'} has no mask")
    shutil.rmtree(root / "Woven_001/train")
    raises_one_line(lambda: _dm(root, k_shot=1), "Woven_001/train/good does not exist")
