"""MVTec LOCO AD datamodule: several mask files per image OR-ed, the anomaly type on every record."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from data_support import IMAGE_SIZE, check_references, check_test_set, raises_one_line
from PIL import Image

from winclip_lit.data import MVTecLOCODataModule
from winclip_lit.data.synthetic import make_mvtec_loco


@pytest.fixture(scope="module")
def loco(tmp_path_factory):
    return make_mvtec_loco(tmp_path_factory.mktemp("loco"), categories=("juice_bottle", "pushpins"))


def _dm(root, **kwargs) -> MVTecLOCODataModule:
    kwargs.setdefault("categories", "juice_bottle,pushpins")
    return MVTecLOCODataModule(root, image_size=IMAGE_SIZE, num_workers=0, **kwargs)


def test_records_carry_the_anomaly_type_and_all_masks(loco) -> None:
    dm = _dm(loco.root)
    for name, cat in loco.categories.items():
        records = dm.test_records(name)
        assert sorted({r.defect for r in records}) == ["good", "logical_anomalies", "structural_anomalies"]
        for record in records:
            if record.label:
                folder = record.image.parents[2] / "ground_truth" / record.defect / record.image.stem
                assert (record.mask, record.extra_masks) == (folder / "000.png", (folder / "001.png",))
        check_test_set(dm, name, cat, cat.test_good)  # the halves' OR is the generator's whole square


def test_masks_are_ored_hand_made_case(loco, tmp_path) -> None:
    root = shutil.copytree(loco.root, tmp_path / "loco")
    folder = root / "pushpins" / "ground_truth" / "logical_anomalies" / "000"
    size = Image.open(root / "pushpins" / "test" / "logical_anomalies" / "000.png").size[::-1]
    expected = np.zeros(size, np.uint8)
    for index, (rows, cols) in enumerate(
        [(slice(0, 3), slice(0, 4)), (slice(10, 12), slice(5, 9)), (slice(2, 4), slice(2, 6))]
    ):
        layer = np.zeros(size, np.uint8)
        layer[rows, cols] = 255
        Image.fromarray(layer).save(folder / f"{index:03d}.png")
        expected[rows, cols] = 1
    dm = _dm(root, categories="pushpins", eval_size="original")
    dm.setup("test")
    index = next(
        i
        for i, r in enumerate(dm.test_dataset.records)
        if r.defect == "logical_anomalies" and r.image.name == "000.png"
    )
    np.testing.assert_array_equal(dm.test_dataset[index]["mask"].numpy(), expected)


def test_references_only_train_good(loco) -> None:
    cat = loco.categories["pushpins"]
    check_references(
        lambda **kw: _dm(loco.root, categories="pushpins", **kw),
        "pushpins",
        cat.train,
        cat.test_good + cat.test_defect,
    )


def test_image_without_mask_folder(loco, tmp_path) -> None:
    root = shutil.copytree(loco.root, tmp_path / "loco")
    folder = root / "juice_bottle" / "ground_truth" / "structural_anomalies" / "001"
    shutil.rmtree(folder)
    raises_one_line(lambda: _dm(root), "001.png has no mask", str(folder / "000.png"))
