"""Checks shared by the benchmark-dataset tests: test sets against what the generator wrote, masks
against the generator's squares, references against the normal pool, one-line errors."""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import pytest

from winclip_lit.data import AnomalyDataModule, DatasetError
from winclip_lit.data.synthetic import SyntheticCategory, box_mask

IMAGE_SIZE = 32


def raises_one_line(fn: Callable[[], object], *fragments: str) -> str:
    """Run ``fn``; it must raise a single-line DatasetError containing every fragment."""
    with pytest.raises(DatasetError) as info:
        fn()
    message = str(info.value)
    assert "\n" not in message, message
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    return message


def check_test_set(
    dm: AnomalyDataModule,
    category: str,
    cat: SyntheticCategory,
    normals: Iterable[Path],
    image_size: int = IMAGE_SIZE,
) -> None:
    """The category's test set is exactly ``normals`` (label 0, no mask) plus the generator's defective
    test images (label 1, their own mask file), and every loaded mask is the generator's square."""
    records = dm.test_records(category)
    assert len({r.image for r in records}) == len(records)
    expected = {Path(p): (0, None) for p in normals}
    expected.update({p: (1, cat.masks[p]) for p in cat.test_defect})
    assert {r.image: (r.label, r.mask) for r in records} == expected
    assert [r.image for r in records] == sorted(r.image for r in records)  # sorted, deterministic
    dm.select(category)
    dm.setup("test")
    for i in range(len(dm.test_dataset)):
        item = dm.test_dataset[i]
        path = Path(item["image_path"])
        assert item["label"] == expected[path][0]
        assert item["image"].shape == (3, image_size, image_size)
        want = (
            box_mask(cat.boxes[path], cat.size, (image_size, image_size))
            if item["label"]
            else np.zeros((image_size, image_size), np.uint8)
        )
        np.testing.assert_array_equal(item["mask"].numpy(), want)


def check_references(
    make_dm: Callable[..., AnomalyDataModule], category: str, pool: Iterable[Path], tested: Iterable[Path]
) -> None:
    """k-shot references come only from ``pool``, never from ``tested``; same seed, same draw; the draw
    changes with the seed; a smaller k gives a prefix of a larger k's draw."""
    pool, tested = set(pool), set(tested)
    draws = {seed: make_dm(k_shot=2, seed=seed).reference_files(category) for seed in range(6)}
    for files in draws.values():
        assert len(files) == 2 and set(files) <= pool and not set(files) & tested
    assert make_dm(k_shot=2, seed=3).reference_files(category) == draws[3]
    assert make_dm(k_shot=1, seed=3).reference_files(category) == draws[3][:1]
    assert len({tuple(files) for files in draws.values()}) > 1
    raises_one_line(lambda: make_dm(k_shot=len(pool) + 1), f"k_shot={len(pool) + 1} is larger than the")


def expected_hold_out(normals: Iterable[Path], share: float, seed: int) -> set[Path]:
    """The documented hold-out, recomputed here: the round(share * n) images (halves up) with the
    smallest sha256(f"{seed}/{path relative to the images' common folder}")."""
    normals = [Path(p) for p in normals]
    common = Path(os.path.commonpath([str(p.parent) for p in normals]))
    n_hold = math.floor(share * len(normals) + 0.5)

    def key(p: Path) -> str:
        return hashlib.sha256(f"{seed}/{p.relative_to(common).as_posix()}".encode()).hexdigest()

    return set(sorted(normals, key=key)[:n_hold])
