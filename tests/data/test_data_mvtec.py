"""MVTec-AD datamodule on the synthetic layout: counts, labels, masks, references, loaders."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from winclip_lit.data import MVTEC_CATEGORIES, AnomalyTestDataset, DatasetError, MVTecDataModule, TestRecord
from winclip_lit.data.io import load_image
from winclip_lit.data.synthetic import box_mask, make_mvtec
from winclip_lit.model.preprocess import OPENAI_MEAN, OPENAI_STD, ImageTransform

IMAGE_SIZE = 32


def _dm(root, **kwargs) -> MVTecDataModule:
    kwargs.setdefault("categories", ["bottle", "grid"])
    kwargs.setdefault("image_size", IMAGE_SIZE)
    kwargs.setdefault("num_workers", 0)
    return MVTecDataModule(root, **kwargs)


def _items(dm: MVTecDataModule) -> list[dict]:
    dm.setup("test")
    return [dm.test_dataset[i] for i in range(len(dm.test_dataset))]


def test_counts_labels_and_fields(mvtec) -> None:
    dm = _dm(mvtec.root)
    assert dm.categories == ["bottle", "grid"]
    for name in dm.categories:
        dm.select(name)
        items = _items(dm)
        cat = mvtec.categories[name]
        assert len(items) == len(cat.test_good) + len(cat.test_defect) == 9
        by_path = {item["image_path"]: item for item in items}
        assert {str(p) for p in cat.test_good} | {str(p) for p in cat.test_defect} == set(by_path)
        assert all(by_path[str(p)]["label"] == 0 for p in cat.test_good)
        assert all(by_path[str(p)]["label"] == 1 for p in cat.test_defect)
        assert [item["index"] for item in items] == list(range(len(items)))
        assert {item["category"] for item in items} == {name}
        assert [item["image_path"] for item in items] == sorted(by_path)  # broken/, crack/, good/
        for item in items:
            assert item["image"].shape == (3, IMAGE_SIZE, IMAGE_SIZE) and item["image"].dtype == torch.float32
            assert item["mask"].shape == (IMAGE_SIZE, IMAGE_SIZE) and item["mask"].dtype == torch.uint8
            assert set(item["mask"].unique().tolist()) <= {0, 1}
            assert (item["mask"].sum() > 0) == bool(item["label"])


def test_mask_matches_bright_square_nearest(mvtec) -> None:
    dm = _dm(mvtec.root, categories="bottle")
    cat = mvtec.categories["bottle"]
    for item in _items(dm):
        if not item["label"]:
            continue
        box = cat.boxes[next(p for p in cat.test_defect if str(p) == item["image_path"])]
        expected = box_mask(box, cat.size, (IMAGE_SIZE, IMAGE_SIZE))
        np.testing.assert_array_equal(item["mask"].numpy(), expected)
        inside = item["image"][:, item["mask"].bool()].mean()
        outside = item["image"][:, ~item["mask"].bool()].mean()
        assert inside > outside + 1.0  # the bright square sits under the mask in the transformed image


@pytest.mark.parametrize(
    ("eval_size", "shape"), [(20, (20, 20)), ([24, 40], (24, 40)), ("original", (48, 64))]
)
def test_eval_size_options(mvtec, eval_size, shape) -> None:
    dm = _dm(mvtec.root, categories="bottle", eval_size=eval_size)
    cat = mvtec.categories["bottle"]
    for item in _items(dm):
        assert tuple(item["mask"].shape) == shape
        assert item["image"].shape == (3, IMAGE_SIZE, IMAGE_SIZE)
        if item["label"]:
            box = cat.boxes[next(p for p in cat.test_defect if str(p) == item["image_path"])]
            np.testing.assert_array_equal(item["mask"].numpy(), box_mask(box, cat.size, shape))


def test_grayscale_category_gives_three_channels(mvtec) -> None:
    dm = _dm(mvtec.root, categories="grid")
    assert mvtec.categories["grid"].grayscale
    item = _items(dm)[0]
    assert item["image"].shape == (3, IMAGE_SIZE, IMAGE_SIZE)
    mean, std = torch.tensor(OPENAI_MEAN)[:, None, None], torch.tensor(OPENAI_STD)[:, None, None]
    pixels = item["image"] * std + mean
    torch.testing.assert_close(pixels[0], pixels[1], atol=1e-5, rtol=0)
    torch.testing.assert_close(pixels[0], pixels[2], atol=1e-5, rtol=0)


def test_references_seeded_disjoint_and_same_transform(mvtec) -> None:
    transform = ImageTransform(IMAGE_SIZE, mean=(0.1, 0.2, 0.3), std=(0.5, 0.5, 0.5))
    dm = _dm(mvtec.root, k_shot=2, seed=1, transform=transform)
    for name in dm.categories:
        refs = dm.reference_files(name)
        assert len(refs) == 2 and set(refs) <= set(mvtec.categories[name].train)
        assert refs == _dm(mvtec.root, k_shot=2, seed=1).reference_files(name)
        assert dm.reference_names(name) == [f"{name}/train/good/{p.name}" for p in refs]
        dm.select(name)
        assert not {str(p) for p in refs} & {item["image_path"] for item in _items(dm)}
        images = dm.reference_images(name)
        assert images.shape == (2, 3, IMAGE_SIZE, IMAGE_SIZE)
        as_test = AnomalyTestDataset(
            [TestRecord(p, None, 0, "good") for p in refs], transform, "original", name
        )
        for i in range(2):
            torch.testing.assert_close(images[i], as_test[i]["image"], rtol=0, atol=0)
            torch.testing.assert_close(images[i], transform(load_image(refs[i])), rtol=0, atol=0)
    assert len({tuple(_dm(mvtec.root, k_shot=2, seed=s).reference_names("bottle")) for s in range(6)}) > 1


def test_zero_shot_has_no_references(mvtec) -> None:
    dm = _dm(mvtec.root)
    assert dm.reference_files("bottle") == [] and dm.reference_images("bottle") is None


def test_select_switches_category_and_loader_is_deterministic(mvtec) -> None:
    dm = _dm(mvtec.root, batch_size=4, k_shot=1)
    with pytest.raises(
        DatasetError, match=r"several categories are configured \(bottle, grid\); call select"
    ):
        dm.setup("test")
    paths = {}
    for name in ("grid", "bottle", "grid"):
        dm.select(name)
        loader = dm.test_dataloader()
        batches = [b["image_path"] for b in loader]
        paths.setdefault(name, batches)
        assert batches == paths[name]
        assert all(f"/{name}/" in p for batch in batches for p in batch)
        assert dm.reference_files() == dm.reference_files(name)
    assert [len(b) for b in paths["bottle"]] == [4, 4, 1]
    with pytest.raises(DatasetError, match="category 'screw' is not configured.*configured: bottle, grid"):
        dm.select("screw")


def test_worker_processes_give_identical_batches(mvtec) -> None:
    serial = _dm(mvtec.root, categories="bottle", batch_size=4)
    parallel = _dm(mvtec.root, categories="bottle", batch_size=4, num_workers=2, persistent_workers=True)
    loader = parallel.test_dataloader()
    assert loader.num_workers == 2 and loader.persistent_workers
    for a, b in zip(serial.test_dataloader(), loader, strict=True):
        assert a["image_path"] == b["image_path"]
        torch.testing.assert_close(a["image"], b["image"])
        torch.testing.assert_close(a["mask"], b["mask"])


def test_defaults(mvtec) -> None:
    dm = MVTecDataModule(mvtec.root, categories="bottle", image_size=IMAGE_SIZE)
    assert isinstance(dm.transform, ImageTransform) and dm.transform.mean == OPENAI_MEAN
    assert dm.eval_size == (IMAGE_SIZE, IMAGE_SIZE)
    assert dm.pin_memory == torch.cuda.is_available()
    assert dm.category == "bottle"
    assert dm.test_dataloader().batch_size == 8
    assert "MVTecDataModule" in str(dm)


def test_all_categories(tmp_path) -> None:
    make_mvtec(tmp_path, categories=MVTEC_CATEGORIES, n_train=1, n_good_test=1, n_defect=1, defects=("cut",))
    dm = _dm(tmp_path, categories="all", k_shot=1)
    assert dm.categories == list(MVTEC_CATEGORIES)
    assert _dm(tmp_path, categories="screw, bottle").categories == ["screw", "bottle"]


def test_zero_shot_needs_no_train_folder(mvtec_copy) -> None:
    import shutil

    shutil.rmtree(mvtec_copy / "bottle" / "train")
    dm = _dm(mvtec_copy, categories="bottle")
    assert len(_items(dm)) == 9 and dm.reference_files("bottle") == []
    with pytest.raises(DatasetError, match=r"train/good does not exist"):
        _dm(mvtec_copy, categories="bottle", k_shot=1)
