"""meta.json datamodule: classes from the JSON, paths relative or prefixed, image-level and
anomalous-only sets, references only from normal train entries, one-line errors."""

from __future__ import annotations

import json
import shutil
import warnings

import pytest
from data_support import IMAGE_SIZE, check_references, check_test_set, raises_one_line

from winclip_lit.data import MetaJsonDataModule
from winclip_lit.data.errors import DatasetWarning
from winclip_lit.data.synthetic import make_meta_json


def _dm(root, **kwargs) -> MetaJsonDataModule:
    return MetaJsonDataModule(root, image_size=IMAGE_SIZE, num_workers=0, **kwargs)


@pytest.mark.parametrize("prefixed", [False, True])
def test_classes_records_and_masks(tmp_path, prefixed) -> None:
    data = make_meta_json(tmp_path / "med", classes=("skin", "brain"), prefixed=prefixed)
    dm = _dm(data.root)
    assert dm.categories == ["brain", "skin"] and dm.has_masks() and dm.has_masks("skin")
    for name, cat in data.categories.items():
        assert dm.has_both_labels(name)
        check_test_set(dm, name, cat, cat.test_good)


def test_references_only_normal_train_entries(tmp_path) -> None:
    data = make_meta_json(tmp_path / "med", classes=("brain",), n_train=5)
    cat = data.categories["brain"]
    assert set(_dm(data.root, k_shot=1)._reference_pool("brain")) == set(cat.train)
    tested = cat.test_good + cat.test_defect + cat.train_defect
    check_references(lambda **kw: _dm(data.root, **kw), "brain", cat.train, tested)


def test_image_level_set_has_no_masks(tmp_path) -> None:
    data = make_meta_json(tmp_path / "headct", classes=("headct",), masks=False)
    dm = _dm(data.root)
    assert not dm.has_masks() and not dm.has_masks("headct")
    assert all(r.mask is None for r in dm.test_records("headct"))
    dm.setup("test")
    assert all(dm.test_dataset[i]["mask"].sum() == 0 for i in range(len(dm.test_dataset)))


def test_anomalous_only_set_warns_once(tmp_path) -> None:
    data = make_meta_json(tmp_path / "colon", classes=("colondb", "kvasir"), normal_test=False, train=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        dm = _dm(data.root)
        for name in dm.categories:
            dm.select(name).setup("test")
    ours = [w for w in caught if issubclass(w.category, DatasetWarning)]
    assert (
        len(ours) == 1
        and "colondb, kvasir" in str(ours[0].message)
        and "pixel metrics" in str(ours[0].message)
    )
    assert not dm.has_both_labels("kvasir") and dm.has_masks("kvasir")
    raises_one_line(
        lambda: _dm(data.root, k_shot=1), "no normal train entries for class 'colondb'", "shot.k=0"
    )


def test_errors(tmp_path) -> None:
    data = make_meta_json(tmp_path / "med", classes=("brain",))
    root = data.root
    meta = json.loads((root / "meta.json").read_text())
    raises_one_line(lambda: _dm(tmp_path / "none"), "root", "does not exist")
    raises_one_line(lambda: _dm(root, categories="skin"), "unknown meta.json category 'skin'", "brain")
    broken = json.loads(json.dumps(meta))
    broken["test"]["brain"][0]["img_path"] = "brain/test/good/missing.png"
    (root / "meta.json").write_text(json.dumps(broken))
    raises_one_line(lambda: _dm(root), "image 'brain/test/good/missing.png' listed in", "does not exist")
    broken = json.loads(json.dumps(meta))
    del broken["test"]["brain"][0]["anomaly"]
    (root / "meta.json").write_text(json.dumps(broken))
    raises_one_line(lambda: _dm(root), "a test entry of class 'brain' lacks anomaly")
    broken = json.loads(json.dumps(meta))
    next(e for e in broken["test"]["brain"] if e["anomaly"])["mask_path"] = ""
    (root / "meta.json").write_text(json.dumps(broken))
    raises_one_line(lambda: _dm(root), "gives masks for some anomalous test images but not for")
    (root / "meta.json").write_text("[1, 2")
    raises_one_line(lambda: _dm(root), "is not valid JSON")
    (root / "meta.json").unlink()
    raises_one_line(lambda: _dm(root), "meta.json", "does not exist")
    shutil.rmtree(root)
