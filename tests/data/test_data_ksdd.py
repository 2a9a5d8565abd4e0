"""KolektorSDD datamodule: kosNN part folders, labels from the masks, the seeded hold-out split."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from data_support import IMAGE_SIZE, check_references, check_test_set, expected_hold_out, raises_one_line
from PIL import Image

from winclip_lit.data import KSDDDataModule
from winclip_lit.data.synthetic import make_ksdd

N_ITEMS, N_PARTS = 5, 4  # 20 images, 2 defective, 18 normal


@pytest.fixture(scope="module")
def ksdd(tmp_path_factory):
    return make_ksdd(
        tmp_path_factory.mktemp("ksdd"), n_items=N_ITEMS, n_parts=N_PARTS, defective=((0, 1), (3, 2))
    )


def _dm(root, **kwargs) -> KSDDDataModule:
    return KSDDDataModule(root, image_size=IMAGE_SIZE, num_workers=0, **kwargs)


def test_written_layout_is_the_release_one(ksdd) -> None:
    assert sorted(p.name for p in ksdd.root.iterdir()) == [f"kos0{i}" for i in range(1, N_ITEMS + 1)]
    assert sorted(p.name for p in (ksdd.root / "kos01").iterdir()) == sorted(
        [f"Part{i}.jpg" for i in range(N_PARTS)] + [f"Part{i}_label.bmp" for i in range(N_PARTS)]
    )
    assert Image.open(ksdd.root / "kos01" / "Part0.jpg").mode == "L"


@pytest.mark.parametrize(("share", "held"), [(0.2, 4), (0.25, 5), (0.0, 0)])  # round(18 * share), halves up
def test_split_counts_labels_and_masks(ksdd, share, held) -> None:
    dm = _dm(ksdd.root, reference_split=share, split_seed=0)
    cat = ksdd.categories["ksdd"]
    assert dm.categories == ["ksdd"] and len(cat.train) == 18 and len(cat.test_defect) == 2
    pool = set(dm._reference_pool("ksdd"))
    assert pool == expected_hold_out(cat.train, share, 0) and len(pool) == held
    records = dm.test_records("ksdd")
    assert len(records) == 20 - held and sum(r.label for r in records) == 2
    assert {r.defect for r in records} == {"good", "defect"}
    check_test_set(dm, "ksdd", cat, [p for p in cat.train if p not in pool])


def test_split_is_deterministic_and_depends_on_split_seed_only(ksdd) -> None:
    a = _dm(ksdd.root, split_seed=0, k_shot=1, seed=0)
    assert a.test_records() == _dm(ksdd.root, split_seed=0, k_shot=1, seed=7).test_records()
    pools = {s: set(_dm(ksdd.root, split_seed=s)._reference_pool("ksdd")) for s in range(4)}
    assert pools[0] == set(a._reference_pool("ksdd"))
    assert len({frozenset(p) for p in pools.values()}) > 1
    for s, pool in pools.items():
        assert pool == expected_hold_out(ksdd.categories["ksdd"].train, 0.2, s)


def test_references_only_from_held_out_normals(ksdd) -> None:
    dm = _dm(ksdd.root, reference_split=0.25)
    pool = dm._reference_pool("ksdd")
    check_references(
        lambda **kw: _dm(ksdd.root, reference_split=0.25, **kw),
        "ksdd",
        pool,
        [r.image for r in dm.test_records()],
    )
    assert all(
        n.startswith("kos0") and n.endswith(".jpg") for n in _dm(ksdd.root, k_shot=2).reference_names()
    )


def test_mask_suffix_any_case(tmp_path) -> None:
    data = make_ksdd(tmp_path, n_items=2, n_parts=3, defective=((1, 0),), mask_suffix="_LABEL")
    cat = data.categories["ksdd"]
    check_test_set(_dm(tmp_path, reference_split=0.0), "ksdd", cat, cat.train)


def test_errors(ksdd, tmp_path) -> None:
    raises_one_line(
        lambda: _dm(tmp_path / "none"), "KolektorSDD root", "does not exist", "download_dataset('ksdd', root)"
    )
    raises_one_line(
        lambda: _dm(ksdd.root, categories="kolektor"), "unknown KolektorSDD category 'kolektor'", "ksdd"
    )
    raises_one_line(lambda: _dm(tmp_path), f"KolektorSDD root {tmp_path} holds no kosNN folders")
    raises_one_line(lambda: _dm(ksdd.root, reference_split=1.0), "reference_split=1.0 must be in [0, 1)")
    raises_one_line(
        lambda: _dm(ksdd.root, reference_split=0.0, k_shot=1),
        "k_shot=1 needs reference_split > 0",
        "no official split",
    )
    root = shutil.copytree(ksdd.root, tmp_path / "copy")
    (root / "kos02" / "Part3_label.bmp").unlink()
    raises_one_line(
        lambda: _dm(root), f"KolektorSDD image {root / 'kos02/Part3.jpg'} has no mask", "Part3_label.bmp"
    )


def test_label_comes_from_mask_content(tmp_path) -> None:
    data = make_ksdd(tmp_path, n_items=1, n_parts=2, defective=())
    mask = data.root / "kos01" / "Part1_label.bmp"
    values = np.zeros((60, 24), np.uint8)
    values[5, 5] = 1  # a single marked pixel of any value > 0 makes the image defective
    Image.fromarray(values).save(mask)
    records = _dm(tmp_path, reference_split=0.0).test_records()
    assert [(r.image.name, r.label, r.mask) for r in records] == [
        ("Part0.jpg", 0, None),
        ("Part1.jpg", 1, mask),
    ]
