"""VisA datamodule: split CSV, class-id masks, references from the CSV's train rows."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from winclip_lit.data import VISA_CATEGORIES, DatasetError, VisADataModule
from winclip_lit.data.synthetic import box_mask

IMAGE_SIZE = 32


def _dm(root, **kwargs) -> VisADataModule:
    kwargs.setdefault("categories", ["candle", "pcb1"])
    kwargs.setdefault("image_size", IMAGE_SIZE)
    kwargs.setdefault("num_workers", 0)
    return VisADataModule(root, **kwargs)


def _items(dm: VisADataModule) -> list[dict]:
    dm.setup("test")
    return [dm.test_dataset[i] for i in range(len(dm.test_dataset))]


def test_masks_are_class_ids_on_disk(visa) -> None:
    cat = visa.categories["candle"]
    values = set()
    for mask in cat.masks.values():
        values |= set(np.unique(np.asarray(Image.open(mask))).tolist())
    assert values == {0, 1, 2, 3}


@pytest.mark.parametrize("eval_size", [None, "original"])
def test_counts_labels_and_binarised_masks(visa, eval_size) -> None:
    dm = _dm(visa.root, eval_size=eval_size)
    for name in ("candle", "pcb1"):
        cat = visa.categories[name]
        dm.select(name)
        items = _items(dm)
        assert len(items) == len(cat.test_good) + len(cat.test_defect) == 6
        assert [it["image_path"] for it in items] == sorted(it["image_path"] for it in items)
        labels = {it["image_path"]: it["label"] for it in items}
        assert labels == {**{str(p): 0 for p in cat.test_good}, **{str(p): 1 for p in cat.test_defect}}
        out_hw = cat.size if eval_size == "original" else (IMAGE_SIZE, IMAGE_SIZE)
        for it in items:
            assert it["image"].shape == (3, IMAGE_SIZE, IMAGE_SIZE) and it["category"] == name
            assert tuple(it["mask"].shape) == out_hw
            if it["label"]:
                box = cat.boxes[Path(it["image_path"])]
                np.testing.assert_array_equal(it["mask"].numpy(), box_mask(box, cat.size, out_hw))
            else:
                assert it["mask"].sum() == 0


def test_references_come_from_train_rows(visa) -> None:
    dm = _dm(visa.root, k_shot=4, seed=2)
    for name in dm.categories:
        refs = dm.reference_files(name)
        assert len(refs) == 4 and set(refs) <= set(visa.categories[name].train)
        dm.select(name)
        assert not {str(p) for p in refs} & {it["image_path"] for it in _items(dm)}
        assert dm.reference_names(name)[0].startswith(f"{name}/Data/Images/Normal/")
    with pytest.raises(DatasetError, match=r"k_shot=7 is larger than the reference pool of 6"):
        _dm(visa.root, k_shot=7)


def test_split_file_option(visa, tmp_path) -> None:
    custom = tmp_path / "my_split.csv"
    shutil.copy(visa.split_csv, custom)
    assert len(_dm(visa.root, categories="candle", split_file=custom).test_records()) == 6


def test_split_csv_errors(visa, tmp_path) -> None:
    root = Path(shutil.copytree(visa.root, tmp_path / "visa"))
    csv_path = root / "split_csv" / "1cls.csv"
    text = csv_path.read_text()
    csv_path.write_text("\n".join(line for line in text.splitlines() if not line.startswith("pcb1,")) + "\n")
    with pytest.raises(DatasetError, match=r"has no rows for category 'pcb1'"):
        _dm(root)
    csv_path.write_text(text.replace("label,", "kind,", 1))
    with pytest.raises(DatasetError, match=r"lacks column\(s\) label"):
        _dm(root)
    csv_path.unlink()
    with pytest.raises(
        DatasetError, match=r"1cls.csv does not exist; download_dataset\('visa', root\) fetches it"
    ):
        _dm(root)


def test_missing_visa_mask_and_image(visa, tmp_path) -> None:
    root = Path(shutil.copytree(visa.root, tmp_path / "visa"))
    mask = root / "candle" / "Data" / "Masks" / "Anomaly" / "001.png"
    mask.unlink()
    with pytest.raises(DatasetError, match=r"test image .*candle/Data/Images/Anomaly/001.JPG has no mask"):
        _dm(root, categories="candle")
    (root / "pcb1" / "Data" / "Images" / "Anomaly" / "000.JPG").unlink()
    with pytest.raises(DatasetError, match=r"VisA image .*000.JPG listed in .*1cls.csv does not exist"):
        _dm(root, categories="pcb1")


def test_unknown_category_lists_valid(visa) -> None:
    with pytest.raises(DatasetError) as info:
        _dm(visa.root, categories="bottle")
    assert "unknown VisA category 'bottle'" in str(info.value)
    assert ", ".join(VISA_CATEGORIES) in str(info.value)


def test_split_csv_with_byte_order_mark_is_read(visa, tmp_path) -> None:
    root = Path(shutil.copytree(visa.root, tmp_path / "visa"))
    csv_path = root / "split_csv" / "1cls.csv"
    csv_path.write_bytes(b"\xef\xbb\xbf" + csv_path.read_bytes())  # as Excel saves "CSV UTF-8"
    with_bom = _dm(root)
    plain = _dm(visa.root)
    for category in ("candle", "pcb1"):
        assert [r.image.relative_to(root) for r in with_bom.test_records(category)] == [
            r.image.relative_to(visa.root) for r in plain.test_records(category)
        ]


@pytest.mark.parametrize("content", [b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe garbage", b"\xff\xd8\xff\xe0" * 50])
def test_garbage_split_csv_is_one_line_naming_the_file(visa, tmp_path, content) -> None:
    root = Path(shutil.copytree(visa.root, tmp_path / "visa"))
    csv_path = root / "split_csv" / "1cls.csv"
    csv_path.write_bytes(content)
    with pytest.raises(DatasetError) as info:
        _dm(root)
    assert "\n" not in str(info.value) and str(csv_path) in str(info.value)
