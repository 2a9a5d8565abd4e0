"""export.py: one graph per category of a checkpoint, of the dataset and shots, or named (zero-shot)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from deploy_support import PARITY, REPO, TINY, make_config, max_difference
from PIL import Image
from subprocess_env import subprocess_env

from winclip_lit.data.synthetic import make_mvtec
from winclip_lit.deploy.runtime import ExportedModel
from winclip_lit.deploy.sidecar import read_sidecar
from winclip_lit.engine.build import build_datamodule, build_model
from winclip_lit.engine.checkpoint import Checkpoint
from winclip_lit.engine.context import RunContext
from winclip_lit.engine.errors import ConfigError
from winclip_lit.tasks.export import export
from winclip_lit.tasks.train import train

pytestmark = pytest.mark.slow


CATEGORIES = ("bottle", "metal_nut")


@pytest.fixture(scope="module")
def mvtec(tmp_path_factory) -> list[str]:
    """Overrides for a synthetic 2-category MVTec-AD with the tiny backbone."""
    root = tmp_path_factory.mktemp("data") / "mvtec"
    make_mvtec(root, categories=CATEGORIES, n_train=4, n_good_test=2, n_defect=1)
    return [*TINY, f"dataset.root={root}", f"dataset.categories=[{','.join(CATEGORIES)}]"]


def _test_image(overrides: list[str], category: str) -> Path:
    root = Path(next(o for o in overrides if o.startswith("dataset.root=")).split("=", 1)[1])
    return root / category / "test" / "broken" / "000.png"


def _torch_scores(model, image: Path) -> tuple[np.ndarray, np.ndarray]:
    with torch.no_grad():
        out = model(model.transform(Image.open(image))[None])
    return out.image_scores.numpy(), out.anomaly_maps.numpy()


def _check_parity(path: Path, model, image: Path) -> None:
    exported = ExportedModel(path)
    out = exported(exported.load_images([image]))
    scores, maps = _torch_scores(model, image)
    assert max_difference(out.image_scores, scores) < PARITY
    assert max_difference(out.anomaly_maps, maps) < PARITY


def test_export_every_category_of_the_dataset_with_its_references(mvtec, tmp_path):
    cfg = make_config(*mvtec, "shot=2")
    paths = export(cfg, RunContext(tmp_path, "export"))
    assert [p.name for p in paths] == ["bottle.onnx", "metal_nut.onnx"]
    model = build_model(cfg)
    datamodule = build_datamodule(cfg, model)
    for path, category in zip(paths, CATEGORIES, strict=True):
        info = read_sidecar(path)
        assert (info.category, info.shots, info.file_format) == (category, 2, "onnx")
        model.set_class_name(category)
        model.set_reference_images(datamodule.reference_images(category))
        _check_parity(path, model, _test_image(mvtec, category))


def test_export_from_a_checkpoint_to_openvino(mvtec, tmp_path):
    checkpoint_file = train(make_config(*mvtec, "shot=2", "seed=3"), RunContext(tmp_path / "fit", "train"))
    cfg = make_config(
        *TINY,
        f"ckpt_path={checkpoint_file}",
        "export.format=openvino",
        "export.categories=[metal_nut]",
        "dataset.root=/nonexistent",  # a checkpoint needs no dataset
    )
    (path,) = export(cfg, RunContext(tmp_path / "export", "export"))
    assert path.name == "metal_nut.xml" and path.with_suffix(".bin").is_file()
    info = read_sidecar(path)
    assert (info.category, info.shots, info.file_format) == ("metal_nut", 2, "openvino")
    model = build_model(cfg)
    model.category_state.load_state_dict(Checkpoint.load(checkpoint_file).state("metal_nut"))
    _check_parity(path, model, _test_image(mvtec, "metal_nut"))


def test_zero_shot_categories_by_name_need_no_dataset(tmp_path):
    cfg = make_config(*TINY, "export.categories=[screw,pill]", "dataset.root=/nonexistent")
    paths = export(cfg, RunContext(tmp_path, "export"))
    assert [(read_sidecar(p).category, read_sidecar(p).shots) for p in paths] == [("screw", 0), ("pill", 0)]


def test_export_input_errors_are_config_errors(mvtec, tmp_path):
    run = RunContext(tmp_path, "export")
    with pytest.raises(ConfigError, match="export.format=tflite is unknown; use onnx or openvino"):
        export(make_config(*TINY, "export.format=tflite"), run)
    with pytest.raises(
        ConfigError, match=r"shot.k=2 needs reference images: pass ckpt_path=.*\(dataset root"
    ):
        export(make_config(*TINY, "shot=2", "dataset.root=/nonexistent"), run)
    with pytest.raises(ConfigError, match="export needs categories: pass export.categories"):
        export(make_config(*TINY, "dataset.root=/nonexistent"), run)
    with pytest.raises(ConfigError, match="export.categories: screw not in the dataset mvtec"):
        export(make_config(*mvtec, "export.categories=[screw]", "shot=1"), run)
    with pytest.raises(ConfigError, match="ckpt_path=.* does not exist"):
        export(make_config(*TINY, f"ckpt_path={tmp_path / 'missing.pt'}"), run)
    assert not list(tmp_path.glob("*.onnx"))


def _cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = subprocess_env(tmp_path)
    return subprocess.run(
        [sys.executable, str(REPO / "export.py"), *TINY, *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_cli_writes_the_files_and_reports_errors_in_one_line(tmp_path):
    done = _cli(tmp_path, "export.categories=[screw]", f"hydra.run.dir={tmp_path / 'run'}")
    assert done.returncode == 0, done.stderr[-3000:]
    assert read_sidecar(tmp_path / "run" / "screw.onnx").class_name == "screw"
    failed = _cli(tmp_path, "shot=2", "dataset.root=/nonexistent")
    assert failed.returncode == 2
    lines = failed.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        "winclip-lit export: error: shot.k=2 needs reference images"
    )
