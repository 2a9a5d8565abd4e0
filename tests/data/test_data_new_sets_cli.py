"""`winclip-lit evaluate dataset=<name>` end to end on the synthetic MVTec AD 2, MVTec LOCO AD, Real-IAD
and meta.json layouts (tiny random backbone, no logger): exit status 0 and a metrics.json per run."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
from subprocess_env import subprocess_env

from winclip_lit.data.synthetic import make_meta_json, make_mvtec_ad2, make_mvtec_loco, make_realiad

PIXEL_KEYS = {"pixel_auroc", "pixel_ap", "pixel_f1max", "pixel_aupro"}
IMAGE_KEYS = {"image_auroc", "image_ap", "image_f1max"}
SMALL = {"n_train": 2, "n_good_test": 2, "n_defect": 1}


def _winclip_lit(tmp: Path, *overrides: str) -> tuple[subprocess.CompletedProcess, Path]:
    command = Path(sys.executable).with_name("winclip-lit")
    run_dir = tmp / "run"
    env = subprocess_env(tmp)
    args = [str(command)] if command.is_file() else [sys.executable, "-m", "winclip_lit"]
    done = subprocess.run(
        [*args, "evaluate", *overrides, "backbone=tiny_random", "logger=none", "loader.num_workers=0",
         "trainer.enable_progress_bar=false", "dashboard.figures=false", f"hydra.run.dir={run_dir}"],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    return done, run_dir


CASES = {
    "mvtec_ad2": (lambda root: make_mvtec_ad2(root, ("can",), n_private=1, **SMALL), IMAGE_KEYS | PIXEL_KEYS),
    "mvtec_loco": (lambda root: make_mvtec_loco(root, ("pushpins",), **SMALL), IMAGE_KEYS | PIXEL_KEYS),
    "realiad": (
        lambda root: make_realiad(root, ("audiojack",), resolution="256", n_samples=2),
        IMAGE_KEYS | PIXEL_KEYS,
    ),
    "meta_json": (
        lambda root: make_meta_json(root, ("headct",), masks=False, n_train=2, n_defect=2),
        IMAGE_KEYS,
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(CASES))
def test_evaluate_new_dataset(tmp_path, name) -> None:
    make, keys = CASES[name]
    data = make(tmp_path / "data")
    (category,) = data.categories
    extra = ["dataset.resolution=256"] if name == "realiad" else []
    overrides = (f"dataset={name}", f"dataset.root={data.root}", f"dataset.categories={category}", "shot=1")
    done, run_dir = _winclip_lit(tmp_path, *overrides, *extra)
    assert done.returncode == 0, done.stdout + done.stderr
    metrics = json.loads((run_dir / "metrics.json").read_text())
    row = metrics["categories"][category]
    assert keys <= set(row), row
    assert all(row[k] is not None and 0.0 <= row[k] <= 1.0 and not math.isnan(row[k]) for k in keys), row
    if name == "meta_json":
        assert not PIXEL_KEYS & set(row)  # an image-level set: image metrics only
