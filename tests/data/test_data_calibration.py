"""Calibration images (threshold=conformal) and the validation part (threshold=f1) of the datamodules."""

from __future__ import annotations

from pathlib import Path

import pytest

from winclip_lit.data import DatasetError
from winclip_lit.data.mvtec import MVTecDataModule
from winclip_lit.data.sampling import calibration_files, sample_reference_files, split_validation
from winclip_lit.data.synthetic import make_mvtec


def test_calibration_files_follow_the_references_and_never_overlap_them() -> None:
    pool = [f"/d/train/good/{i:03d}.png" for i in range(30)]
    for seed in range(5):
        refs = sample_reference_files(pool, 4, seed)
        calib = calibration_files(pool, 4, 20, seed)
        assert len(calib) == len(set(calib)) == 20
        assert not set(calib) & set(refs)
        assert set(calib) <= {Path(p) for p in pool}
        assert calibration_files(pool, 4, 20, seed) == calib  # seeded, repeatable
    assert calibration_files(pool, 0, 10, 1) != calibration_files(pool, 0, 10, 2)


def test_calibration_files_refuse_a_pool_too_small_in_one_line() -> None:
    pool = [f"/d/train/good/{i:03d}.png" for i in range(10)]
    with pytest.raises(
        DatasetError, match=r"threshold.num_calibration=9 needs 9 normal images besides the 2"
    ):
        calibration_files(pool, 2, 9, 0)


def test_split_validation_draws_each_class_by_seed() -> None:
    labels = [0] * 10 + [1] * 5
    names = [f"n{i}" for i in range(10)] + [f"a{i}" for i in range(5)]
    held = split_validation(labels, names, 0.2, seed=3)
    assert sum(labels[i] == 0 for i in held) == 2 and sum(labels[i] == 1 for i in held) == 1
    assert held == split_validation(labels, names, 0.2, seed=3)
    assert split_validation([0, 1], ["x", "y"], 0.2) == []  # one of a class: kept in the test set


def test_datamodule_calibration_and_validation_parts(tmp_path: Path) -> None:
    make_mvtec(tmp_path, categories=("bottle",), n_train=12, n_good_test=5, n_defect=5)
    dm = MVTecDataModule(tmp_path, categories="bottle", image_size=64, k_shot=2, seed=1, num_workers=0)
    references = set(dm.reference_files("bottle"))
    calibration = dm.calibration_dataset("bottle", 10)
    files = {r.image for r in calibration.records}
    assert len(files) == 10 and not files & references
    assert all(r.label == 0 for r in calibration.records)
    assert int(calibration[0]["mask"].sum()) == 0
    with pytest.raises(DatasetError, match="num_calibration=11"):
        dm.calibration_dataset("bottle", 11)
    before = {r.image for r in dm.test_records("bottle")}
    dm.hold_out_validation(0.2)
    validation = {r.image for r in dm.validation_dataset("bottle").records}
    tested = {r.image for r in dm.test_records("bottle")}
    assert validation and not validation & tested and validation | tested == before
    dm.select("bottle").setup("test")
    assert {Path(r.image) for r in dm.test_dataset.records} == tested
