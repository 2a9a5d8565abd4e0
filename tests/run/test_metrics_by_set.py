"""Metrics a test set defines, per category: MVTec LOCO's per anomaly type beside the total, and meta.json
classes without masks (image metrics only) or without normal test images (pixel metrics only). Values
against sklearn / numpy on the generator's files (tests/run/run_oracle.py)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from run_oracle import aupro, f1_max, oracle_metrics
from run_support import TINY, make_config
from sklearn.metrics import average_precision_score, roc_auc_score

from winclip_lit import TINY_MODEL_NAME, WinCLIP
from winclip_lit.data.errors import DatasetWarning
from winclip_lit.data.synthetic import make_meta_json, make_mvtec_loco
from winclip_lit.engine.context import RunContext
from winclip_lit.metrics import METRIC_KEYS
from winclip_lit.tasks.evaluate import evaluate

LOCO_TYPES = ("logical_anomalies", "structural_anomalies")


@pytest.fixture()
def oracle_model() -> WinCLIP:
    """The tiny model as evaluate builds it (torch_seed 0)."""
    torch.manual_seed(0)
    model = WinCLIP.from_pretrained(TINY_MODEL_NAME, None)
    model.text_cache = {}
    return model


def _mask(files: list[Path], size: int) -> np.ndarray:
    """The OR of mask files, resized (nearest) to the model input size."""
    out = np.zeros((size, size), bool)
    for path in files:
        out |= np.asarray(Image.open(path).convert("L").resize((size, size), Image.Resampling.NEAREST)) > 0
    return out


def _oracle(model: WinCLIP, class_name: str, images: list[Path], masks: list[list[Path]]) -> dict:
    model.options.class_name_map = {class_name: class_name}
    model.set_class_name(class_name)
    model.set_reference_images(None)
    out = model(torch.stack([model.transform(Image.open(p)) for p in images]))
    size = model.image_size
    labels = np.array([int(bool(m)) for m in masks])
    truth = np.stack([_mask(m, size) for m in masks])
    return oracle_metrics(
        labels,
        out.image_scores.numpy().astype(np.float64),
        truth,
        out.anomaly_maps.numpy().astype(np.float64),
    )


def test_loco_reports_each_anomaly_type_beside_the_total(oracle_model, tmp_path, monkeypatch) -> None:
    data = make_mvtec_loco(tmp_path / "loco", ("pushpins",), n_train=1, n_good_test=2, n_defect=2)
    cat = data.categories["pushpins"]
    run = tmp_path / "run"
    overrides = (
        "dataset=mvtec_loco",
        f"dataset.root={data.root}",
        "dataset.categories=pushpins",
        "shot=0",
        "dashboard.figures=false",
        *TINY,
    )
    result = evaluate(make_config(*overrides), RunContext(run, "evaluate"))

    def masks_of(image: Path) -> list[Path]:
        kind = image.parent.name
        return sorted((data.root / "pushpins" / "ground_truth" / kind / image.stem).glob("*.png"))

    everything = _oracle(
        oracle_model,
        "pushpin",
        cat.test_good + cat.test_defect,
        [[]] * 2 + [masks_of(p) for p in cat.test_defect],
    )
    for key in METRIC_KEYS:
        assert result["categories"]["pushpins"][key] == pytest.approx(everything[key], abs=1e-4), key
    assert list(result["by_defect_type"]) == list(LOCO_TYPES)
    for kind in LOCO_TYPES:
        defects = [p for p in cat.test_defect if p.parent.name == kind]
        assert len(defects) == 2
        expected = _oracle(
            oracle_model, "pushpin", cat.test_good + defects, [[], []] + [masks_of(p) for p in defects]
        )
        got = result["by_defect_type"][kind]
        for key in METRIC_KEYS:
            assert got["categories"]["pushpins"][key] == pytest.approx(expected[key], abs=1e-4), (kind, key)
            assert got["mean"][key] == pytest.approx(expected[key], abs=1e-4), (kind, key)
    saved = json.loads((run / "metrics.json").read_text())
    assert saved["by_defect_type"] == result["by_defect_type"]
    table = (run / "metrics_by_type.md").read_text()
    assert "| pushpins | logical_anomalies |" in table and "| mean | structural_anomalies |" in table
    assert "anomalies" not in (run / "metrics.md").read_text()  # the main table keeps one row per category


def test_other_sets_write_no_types(tmp_path, monkeypatch) -> None:
    data = make_meta_json(tmp_path / "meta", ("brain",), n_train=1, n_good_test=1, n_defect=1)
    overrides = ("dataset=meta_json", f"dataset.root={data.root}", "shot=0", "dashboard.figures=false", *TINY)
    result = evaluate(make_config(*overrides), RunContext(tmp_path / "run", "evaluate"))
    assert "by_defect_type" not in result and not (tmp_path / "run" / "metrics_by_type.md").exists()


def test_meta_json_metrics_per_class(oracle_model, tmp_path) -> None:
    """One meta.json with a pixel-level class (masks), an image-level class (no masks) and a class whose
    test images are all anomalous: each gets the metrics it defines, said once."""
    root = tmp_path / "meta"
    parts = [
        make_meta_json(root, ("isic",), n_train=1, n_good_test=2, n_defect=2, seed=1),
        make_meta_json(root, ("headct",), masks=False, n_train=1, n_good_test=2, n_defect=2, seed=2),
        make_meta_json(root, ("kvasir",), normal_test=False, train=False, n_defect=2, seed=3),
    ]
    metas = []
    for data in parts:  # each call rewrites meta.json: merge them by hand
        (name,) = data.categories
        metas.append((name, data.categories[name]))
    merged = {"train": {}, "test": {}}
    for name, cat in metas:
        tests = [
            {
                "img_path": p.relative_to(root).as_posix(),
                "mask_path": "",
                "cls_name": name,
                "specie_name": "good",
                "anomaly": 0,
            }
            for p in cat.test_good
        ]
        tests += [
            {
                "img_path": p.relative_to(root).as_posix(),
                "mask_path": cat.masks[p].relative_to(root).as_posix() if p in cat.masks else "",
                "cls_name": name,
                "specie_name": "bad",
                "anomaly": 1,
            }
            for p in cat.test_defect
        ]
        merged["test"][name] = tests
        if cat.train:
            merged["train"][name] = [
                {
                    "img_path": p.relative_to(root).as_posix(),
                    "mask_path": "",
                    "cls_name": name,
                    "specie_name": "good",
                    "anomaly": 0,
                }
                for p in cat.train
            ]
    (root / "meta.json").write_text(json.dumps(merged))
    overrides = ("dataset=meta_json", f"dataset.root={root}", "shot=0", "dashboard.figures=false", *TINY)
    with pytest.warns(DatasetWarning, match="every test image of kvasir is anomalous") as caught:
        result = evaluate(make_config(*overrides), RunContext(tmp_path / "run", "evaluate"))
    # Said once: neither a second dataset line nor the metrics' per-category "undefined" warnings.
    assert [
        str(w.message) for w in caught if "anomalous" in str(w.message) or "undefined" in str(w.message)
    ] == [str(caught[0].message)]
    rows = result["categories"]
    image_keys = [k for k in METRIC_KEYS if not k.startswith("pixel_") and k != "mad"]
    pixel_keys = [k for k in METRIC_KEYS if k.startswith("pixel_")]
    isic = metas[0][1]
    expected = _oracle(
        oracle_model,
        "skin",
        isic.test_good + isic.test_defect,
        [[]] * 2 + [[isic.masks[p]] for p in isic.test_defect],
    )
    for key in METRIC_KEYS:
        assert rows["isic"][key] == pytest.approx(expected[key], abs=1e-4), key
    headct = metas[1][1]
    assert {k for k, v in rows["headct"].items() if v is not None} == set(image_keys)
    images = headct.test_good + headct.test_defect
    model = oracle_model
    model.options.class_name_map = {"headct": "brain"}
    model.set_class_name("headct")
    model.set_reference_images(None)
    scores = model(torch.stack([model.transform(Image.open(p)) for p in images])).image_scores.numpy()
    assert rows["headct"]["image_auroc"] == pytest.approx(roc_auc_score([0, 0, 1, 1], scores), abs=1e-6)
    kvasir = metas[2][1]
    assert {k for k, v in rows["kvasir"].items() if v is not None} == set(pixel_keys)
    model.options.class_name_map = {"kvasir": "colon"}
    model.set_class_name("kvasir")
    maps = model(torch.stack([model.transform(Image.open(p)) for p in kvasir.test_defect])).anomaly_maps
    maps = maps.numpy().astype(np.float64)
    truth = np.stack([_mask([kvasir.masks[p]], model.image_size) for p in kvasir.test_defect])
    expected = {
        "pixel_auroc": roc_auc_score(truth.ravel(), maps.ravel()),
        "pixel_ap": average_precision_score(truth.ravel(), maps.ravel()),
        "pixel_f1max": f1_max(truth.ravel(), maps.ravel()),
        "pixel_aupro": aupro(truth, maps),
    }
    for key in pixel_keys:
        assert rows["kvasir"][key] == pytest.approx(expected[key], abs=1e-4), key
