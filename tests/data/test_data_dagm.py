"""DAGM 2007 datamodule: Label/Labels.txt, defective Train images, masks by name, layout variants."""

from __future__ import annotations

import shutil

import pytest
from data_support import IMAGE_SIZE, check_references, check_test_set, raises_one_line

from winclip_lit.data import DAGM_CATEGORIES, DAGMDataModule
from winclip_lit.data.dagm import read_labels_file
from winclip_lit.data.synthetic import make_dagm


@pytest.fixture(scope="module")
def dagm(tmp_path_factory):
    return make_dagm(
        tmp_path_factory.mktemp("dagm"),
        ("Class1", "Class10"),
        n_train_normal=6,
        n_train_defect=3,
        n_test_normal=4,
        n_test_defect=3,
    )


def _dm(root, **kwargs) -> DAGMDataModule:
    kwargs.setdefault("categories", ["Class1", "Class10"])
    return DAGMDataModule(root, image_size=IMAGE_SIZE, num_workers=0, **kwargs)


def test_labels_file_is_parsed(dagm) -> None:
    path = dagm.root / "Class1" / "Test" / "Label" / "Labels.txt"
    assert path.read_bytes().startswith(b"1\r\n")  # header line, Windows line ends
    entries = read_labels_file(path)
    cat = dagm.categories["Class1"]
    assert {name for name, label, _ in entries if label == 1} == {p.name for p in cat.test_defect}
    assert {name for name, label, _ in entries if label == 0} == {p.name for p in cat.test_good}
    assert {mask for _, label, mask in entries if label == 1} == {cat.masks[p].name for p in cat.test_defect}
    assert {mask for _, label, mask in entries if label == 0} == {None}


def test_counts_labels_and_masks(dagm) -> None:
    dm = _dm(dagm.root)
    for name in ("Class1", "Class10"):
        cat = dagm.categories[name]
        records = dm.test_records(name)
        assert len(records) == 7 and sum(r.label for r in records) == 3
        assert all(r.image.parent.name == "Test" for r in records)
        check_test_set(dm, name, cat, cat.test_good)


def test_references_only_normal_train_images(dagm) -> None:
    cat = dagm.categories["Class10"]
    assert set(_dm(dagm.root, categories="Class10", k_shot=1)._reference_pool("Class10")) == set(cat.train)
    check_references(
        lambda **kw: _dm(dagm.root, categories="Class10", **kw),
        "Class10",
        cat.train,
        cat.test_good + cat.test_defect + cat.train_defect,
    )


def test_without_labels_file_masks_decide(tmp_path) -> None:
    data = make_dagm(tmp_path, ("Class2",), n_train_normal=3, n_train_defect=2, labels_file=False)
    cat = data.categories["Class2"]
    dm = _dm(tmp_path, categories="Class2", k_shot=1)
    check_test_set(dm, "Class2", cat, cat.test_good)
    assert set(dm._reference_pool("Class2")) == set(cat.train)


def test_lower_case_and_nested_folders(dagm, tmp_path) -> None:
    root = tmp_path / "variants"
    shutil.copytree(dagm.root / "Class1", root / "Class1" / "Class1")  # extracted one level deeper
    (root / "Class1" / "Class1" / "Test").rename(root / "Class1" / "Class1" / "test")
    (root / "Class1" / "Class1" / "test" / "Label").rename(root / "Class1" / "Class1" / "test" / "label")
    dm = _dm(root, categories="Class1", k_shot=1)
    cat = dagm.categories["Class1"]
    moved = {p: root / "Class1" / "Class1" / "test" / p.name for p in cat.test_good + cat.test_defect}
    records = dm.test_records("Class1")
    assert {r.image for r in records} == set(moved.values())
    assert {r.image.name: r.label for r in records} == {p.name: int(p in cat.test_defect) for p in moved}


def test_errors(dagm, tmp_path) -> None:
    raises_one_line(
        lambda: _dm(tmp_path / "none"), "DAGM root", "does not exist", "hci.iwr.uni-heidelberg.de"
    )
    message = raises_one_line(lambda: _dm(dagm.root, categories="Class11"), "unknown DAGM category 'Class11'")
    assert ", ".join(DAGM_CATEGORIES) in message
    raises_one_line(lambda: _dm(dagm.root, categories="Class2"), "DAGM folder", "Class2/Test does not exist")
    root = shutil.copytree(dagm.root, tmp_path / "copy")
    cat = dagm.categories["Class1"]
    image = cat.test_defect[0]
    (root / "Class1/Test/Label" / f"{image.stem}_label.PNG").unlink()
    raises_one_line(
        lambda: _dm(root, categories="Class1"),
        f"test image {root / 'Class1/Test' / image.name} has no mask",
        f"Label/{image.stem}_label.PNG",
    )
    missing = root / "Class10/Test" / cat.test_good[0].name
    missing.unlink()
    raises_one_line(
        lambda: _dm(root, categories="Class10"),
        f"DAGM image {missing} listed in",
        "Labels.txt does not exist",
    )
    shutil.copy(dagm.root / "Class10/Test" / missing.name, missing)
    (root / "Class10/Train/Label/Labels.txt").write_text("1\nno image here\n")
    raises_one_line(lambda: _dm(root, categories="Class10", k_shot=1), "Labels.txt lists no image")
    shutil.rmtree(root / "Class10/Train/Label")
    raises_one_line(lambda: _dm(root, categories="Class10", k_shot=1), "Class10/Train/Label does not exist")
