"""BTAD datamodule: ok/ko folders, per-product image/mask extensions, numeric category names."""

from __future__ import annotations

import shutil

import pytest
from data_support import IMAGE_SIZE, check_references, check_test_set, raises_one_line

from winclip_lit.data import BTAD_CATEGORIES, BTADDataModule
from winclip_lit.data.synthetic import make_btad


@pytest.fixture(scope="module")
def btad(tmp_path_factory):
    return make_btad(tmp_path_factory.mktemp("btad"), n_train=4, n_good_test=2, n_defect=3)


def _dm(root, **kwargs) -> BTADDataModule:
    return BTADDataModule(root, image_size=IMAGE_SIZE, num_workers=0, **kwargs)


def test_release_extensions_per_product(btad) -> None:
    suffixes = {
        name: ({p.suffix for p in cat.test_defect}, {m.suffix for m in cat.masks.values()})
        for name, cat in btad.categories.items()
    }
    assert suffixes == {"01": ({".bmp"}, {".png"}), "02": ({".png"}, {".png"}), "03": ({".bmp"}, {".bmp"})}


def test_counts_labels_and_masks(btad) -> None:
    dm = _dm(btad.root)
    assert dm.categories == list(BTAD_CATEGORIES)
    for name in dm.categories:
        cat = btad.categories[name]
        records = dm.test_records(name)
        assert len(records) == 5 and sum(r.label for r in records) == 3
        assert {r.defect for r in records} == {"good", "ko"}
        check_test_set(dm, name, cat, cat.test_good)


@pytest.mark.parametrize(
    ("given", "resolved"), [(1, ["01"]), ([2, "03"], ["02", "03"]), ("1,02", ["01", "02"])]
)
def test_numeric_category_names_are_padded(btad, given, resolved) -> None:
    assert _dm(btad.root, categories=given).categories == resolved


def test_references_only_from_train_ok(btad) -> None:
    cat = btad.categories["03"]
    check_references(lambda **kw: _dm(btad.root, categories="03", **kw), "03", cat.train, cat.test_good)
    assert all(
        n.startswith("03/train/ok/") for n in _dm(btad.root, categories="03", k_shot=2).reference_names()
    )


def test_errors(btad, tmp_path) -> None:
    raises_one_line(
        lambda: _dm(tmp_path / "none"), "BTAD root", "does not exist", "download_dataset('btad', root)"
    )
    raises_one_line(lambda: _dm(btad.root, categories="04"), "unknown BTAD category '04'", "01, 02, 03")
    root = shutil.copytree(btad.root, tmp_path / "copy")
    (root / "01/ground_truth/ko/002.png").unlink()
    raises_one_line(
        lambda: _dm(root, categories="01"),
        f"test image {root / '01/test/ko/002.bmp'} has no mask",
        "ground_truth/ko/002.png",
    )
    shutil.rmtree(root / "02/train/ok")
    raises_one_line(
        lambda: _dm(root, categories="02", k_shot=1),
        "02/train/ok does not exist",
        "download_dataset('btad', root)",
    )
