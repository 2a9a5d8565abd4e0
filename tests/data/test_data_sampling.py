"""k-shot sampling: seeded, uniform, without replacement, machine independent."""

from __future__ import annotations

import collections
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from winclip_lit.data import DatasetError, sample_reference_files


def _pool(n: int, folder: Path = Path("/data/cat/train/good")) -> list[Path]:
    return [folder / f"{i:03d}.png" for i in range(n)]


def test_deterministic_and_order_independent() -> None:
    pool = _pool(20)
    first = sample_reference_files(pool, 4, seed=3)
    assert first == sample_reference_files(list(reversed(pool)), 4, seed=3)
    assert len(set(first)) == 4 and set(first) <= set(pool)
    assert sample_reference_files(pool, 4, seed=4) != first


def test_independent_of_dataset_location() -> None:
    a = sample_reference_files(_pool(30, Path("/a/x/train/good")), 3, seed=1)
    b = sample_reference_files(_pool(30, Path("/elsewhere/train/good")), 3, seed=1)
    assert [p.name for p in a] == [p.name for p in b]


def test_smaller_k_is_prefix() -> None:
    pool = _pool(12)
    assert sample_reference_files(pool, 4, 7)[:2] == sample_reference_files(pool, 2, 7)


def test_k_zero_and_errors() -> None:
    assert sample_reference_files(_pool(3), 0, 0) == []
    with pytest.raises(
        DatasetError, match=r"k_shot=4 is larger than the reference pool of 3 normal image\(s\)"
    ):
        sample_reference_files(_pool(3), 4, 0)
    with pytest.raises(DatasetError, match="k_shot must be >= 0"):
        sample_reference_files(_pool(3), -1, 0)


def test_roughly_uniform() -> None:
    pool = _pool(5)
    counts = collections.Counter(sample_reference_files(pool, 1, seed)[0].name for seed in range(2000))
    assert set(counts) == {p.name for p in pool}
    assert all(320 < c < 480 for c in counts.values()), counts  # expectation 400, sd about 18


def test_same_files_in_another_process(mvtec, tmp_path: Path) -> None:
    moved = Path(shutil.copytree(mvtec.root, tmp_path / "moved"))
    code = (
        "import json, sys\n"
        "from winclip_lit.data import MVTecDataModule\n"
        "dm = MVTecDataModule(sys.argv[1], categories='bottle', image_size=32, k_shot=3, seed=5)\n"
        "print(json.dumps(dm.reference_names()))\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", code, str(moved)], capture_output=True, text=True, env=env, check=True
    )
    from winclip_lit.data import MVTecDataModule

    here = MVTecDataModule(mvtec.root, categories="bottle", image_size=32, k_shot=3, seed=5, num_workers=0)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == here.reference_names()
