"""Real-IAD datamodule: the split JSON decides train/test and labels; masks beside their images."""

from __future__ import annotations

import json
import shutil

import pytest
from data_support import IMAGE_SIZE, check_references, check_test_set, raises_one_line

from winclip_lit.data import RealIADDataModule
from winclip_lit.data.synthetic import make_realiad


@pytest.fixture(scope="module")
def realiad(tmp_path_factory):
    return make_realiad(tmp_path_factory.mktemp("realiad"), categories=("audiojack", "pcb"), resolution="256")


def _dm(root, **kwargs) -> RealIADDataModule:
    kwargs.setdefault("categories", "audiojack,pcb")
    kwargs.setdefault("resolution", 256)
    return RealIADDataModule(root, image_size=IMAGE_SIZE, num_workers=0, **kwargs)


def test_json_split_and_hidden_defect_views_are_normal(realiad) -> None:
    dm = _dm(realiad.root)
    for name, cat in realiad.categories.items():
        records = dm.test_records(name)
        assert len(records) == 6 + 2 + 2  # 2 normal samples x 3 views, 2 defective views, 2 views without it
        hidden = [r for r in records if "_NG_" not in r.image.name and "/NG/" in r.image.as_posix()]
        assert len(hidden) == 2 and all(r.label == 0 and r.mask is None for r in hidden)
        assert {r.defect for r in records if r.label} == {"QS"}
        check_test_set(dm, name, cat, cat.test_good)


def test_references_only_normal_train_entries(realiad) -> None:
    cat = realiad.categories["pcb"]
    tested = cat.test_good + cat.test_defect
    check_references(lambda **kw: _dm(realiad.root, categories="pcb", **kw), "pcb", cat.train, tested)


def test_nested_json_folder_and_other_variant(tmp_path) -> None:
    data = make_realiad(
        tmp_path, categories=("toy",), resolution="512", json_variant="realiad_jsons_sv", nested=True
    )
    cat = data.categories["toy"]
    dm = _dm(tmp_path, categories="toy", resolution="512", json_variant="realiad_jsons_sv")
    check_test_set(dm, "toy", cat, cat.test_good)


def test_errors(realiad, tmp_path) -> None:
    root = shutil.copytree(realiad.root, tmp_path / "realiad")
    raises_one_line(lambda: _dm(root, resolution=300), "resolution=300", "256, 512, 1024, raw")
    raises_one_line(lambda: _dm(root, json_variant="jsons"), "json_variant='jsons'")
    raises_one_line(lambda: _dm(root, resolution=1024), "realiad_1024 does not exist")
    raises_one_line(lambda: _dm(root, categories="zipper"), "realiad_jsons/zipper.json does not exist")
    path = root / "realiad_jsons" / "pcb.json"
    doc = json.loads(path.read_text())
    ng = next(e for e in doc["test"] if e["anomaly_class"] != "OK")
    (root / "realiad_256" / "pcb" / ng["mask_path"]).unlink()
    raises_one_line(lambda: _dm(root), "Real-IAD mask", ng["mask_path"], "does not exist")
    ng["mask_path"] = None
    path.write_text(json.dumps(doc))
    raises_one_line(lambda: _dm(root), "is anomalous (QS) but has no mask_path", str(path))
    path.write_text("{not json")
    raises_one_line(lambda: _dm(root), f"{path} is not valid JSON")
