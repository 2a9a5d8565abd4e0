"""MPDD datamodule on the synthetic release layout (MVTec-AD layout, RGB PNG, `<stem>_mask.png`)."""

from __future__ import annotations

import shutil

import pytest
from data_support import IMAGE_SIZE, check_references, check_test_set, raises_one_line

from winclip_lit.data import MPDD_CATEGORIES, MPDDDataModule
from winclip_lit.data.synthetic import make_mpdd


@pytest.fixture(scope="module")
def mpdd(tmp_path_factory):
    return make_mpdd(
        tmp_path_factory.mktemp("mpdd"), ("bracket_black", "tubes"), n_train=5, n_good_test=3, n_defect=2
    )


def _dm(root, **kwargs) -> MPDDDataModule:
    kwargs.setdefault("categories", ["bracket_black", "tubes"])
    return MPDDDataModule(root, image_size=IMAGE_SIZE, num_workers=0, **kwargs)


def test_counts_labels_and_masks(mpdd) -> None:
    dm = _dm(mpdd.root)
    assert dm.categories == ["bracket_black", "tubes"]
    for name in dm.categories:
        cat = mpdd.categories[name]
        assert len(dm.test_records(name)) == 3 + 2 * 2
        assert sum(r.label for r in dm.test_records(name)) == 4
        assert {r.defect for r in dm.test_records(name)} == {"good", "hole", "scratches"}
        check_test_set(dm, name, cat, cat.test_good)


def test_references_only_from_train_good(mpdd) -> None:
    cat = mpdd.categories["tubes"]
    check_references(
        lambda **kw: _dm(mpdd.root, categories="tubes", **kw),
        "tubes",
        cat.train,
        cat.test_good + cat.test_defect,
    )
    names = _dm(mpdd.root, categories="tubes", k_shot=2).reference_names("tubes")
    assert all(n.startswith("tubes/train/good/") for n in names)


def test_errors(mpdd, tmp_path) -> None:
    raises_one_line(lambda: _dm(tmp_path / "none"), "MPDD root", "does not exist", "github.com/stepanje/MPDD")
    message = raises_one_line(lambda: _dm(mpdd.root, categories="bracket"), "unknown MPDD category 'bracket'")
    assert ", ".join(MPDD_CATEGORIES) in message
    raises_one_line(lambda: _dm(mpdd.root, categories="connector"), "connector/test does not exist")
    root = shutil.copytree(mpdd.root, tmp_path / "copy")
    (root / "tubes/ground_truth/hole/001_mask.png").unlink()
    raises_one_line(
        lambda: _dm(root, categories="tubes"),
        f"test image {root / 'tubes/test/hole/001.png'} has no mask",
        "ground_truth/hole/001_mask.png",
    )
    for image in (root / "tubes/test/good").iterdir():
        image.unlink()
    raises_one_line(lambda: _dm(root, categories="tubes"), "test/good", "contains no images")
