"""The package installs and runs on its own: configs and the command ship in the wheel, runtime
dependencies are not extras, and the data/metrics packages are cheap to import."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("module", ["winclip_lit.data", "winclip_lit.metrics", "winclip_lit.config"])
def test_light_packages_import_neither_open_clip_lightning_nor_wandb(module: str) -> None:
    code = (
        f"import sys, {module}; heavy = [m for m in ('open_clip', 'lightning', 'wandb') if m in sys.modules];"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "", f"{module} imported {out.strip()}"


def test_python_m_and_console_script_print_usage() -> None:
    out = subprocess.run([sys.executable, "-m", "winclip_lit"], capture_output=True, text=True)
    assert out.returncode == 2 and "usage: winclip-lit {evaluate|train|predict|report|export}" in out.stderr


@pytest.mark.slow
def test_wheel_without_extras_evaluates_from_another_directory(tmp_path: Path) -> None:
    source = tmp_path / "src-copy"
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    for name in tracked.split():
        target = source / name
        target.parent.mkdir(parents=True, exist_ok=True)
        origin = REPO / name
        if origin.is_symlink():
            os.symlink(os.readlink(origin), target)
        elif origin.is_file():
            shutil.copy2(origin, target)
    dist = tmp_path / "dist"
    pip = [sys.executable, "-m", "pip", "-q", "--disable-pip-version-check"]
    subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(dist), str(source)], check=True
    )
    wheel = next(dist.glob("winclip_lit-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata = archive.read(next(n for n in names if n.endswith("METADATA"))).decode()
        entry_points = archive.read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert {"winclip_lit/conf/config.yaml", "winclip_lit/conf/dataset/folder.yaml"} <= names
    assert "winclip_lit/model/model_configs/winclip-tiny-vit.json" in names
    assert "winclip-lit = winclip_lit.cli:main" in entry_points
    runtime = [
        line for line in metadata.splitlines() if line.startswith("Requires-Dist:") and "extra ==" not in line
    ]
    for package in (
        "torch",
        "open_clip_torch",
        "lightning",
        "hydra-core",
        "wandb",
        "matplotlib",
        "pyyaml",
        "tifffile",
    ):
        assert any(package in line for line in runtime), package
    site = tmp_path / "site"
    subprocess.run(
        [*pip, "install", "--no-deps", "--no-index", "--target", str(site), str(wheel)], check=True
    )
    from winclip_lit.data.synthetic import make_folder

    make_folder(tmp_path / "folder", n_normal=4, n_abnormal=(2,))
    data = tmp_path / "folder"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site), "WANDB_MODE": "disabled", "HF_HUB_OFFLINE": "1"}
    where = subprocess.run(
        [sys.executable, "-c", "import winclip_lit; print(winclip_lit.__file__)"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert where.startswith(str(site))
    result = subprocess.run(
        [
            str(site / "bin" / "winclip-lit"),
            "evaluate",
            "backbone=tiny_random",
            "dataset=folder",
            f"dataset.normal_dir={data / 'normal'}",
            f"dataset.abnormal_dirs=[{data / 'abnormal_0'}]",
            "logger=none",
            "loader.num_workers=0",
            "trainer.enable_progress_bar=false",
        ],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    assert list((elsewhere / "outputs" / "evaluate").glob("*/metrics.json"))


def test_a_run_imports_only_what_it_uses(tmp_path: Path) -> None:
    """logger=none never imports W&B (timm would); --help needs neither open_clip, torch nor Lightning.

    (torchmetrics imports matplotlib.pyplot itself whenever matplotlib is installed.)"""
    from winclip_lit.data.synthetic import make_folder

    make_folder(tmp_path / "folder", n_normal=3, n_abnormal=(1,))
    code = (
        "import sys\n"
        "from winclip_lit.cli import main\n"
        "try:\n"
        f"    main(['evaluate', 'backbone=tiny_random', 'dataset=folder', 'dataset.normal_dir={tmp_path}/folder/normal',\n"
        f"          'dataset.abnormal_dirs=[{tmp_path}/folder/abnormal_0]', 'logger=none', 'dashboard.figures=false',\n"
        f"          'loader.num_workers=0', 'trainer.enable_progress_bar=false', 'hydra.run.dir={tmp_path}/run'])\n"
        "finally:\n"
        "    print('LOADED', [m for m in ('wandb', 'matplotlib', 'open_clip') if m in sys.modules])\n"
    )
    env = {**os.environ, "WANDB_MODE": "disabled"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=600)
    assert out.returncode == 0, out.stdout + out.stderr  # the run itself must succeed, not only import
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["mean"]
    assert "LOADED ['matplotlib', 'open_clip']" in out.stdout, out.stdout + out.stderr
    help_code = (
        "import sys\nfrom winclip_lit.cli import main\ntry:\n    main(['evaluate', '--help'])\n"
        "except SystemExit:\n    pass\nprint('LOADED', [m for m in ('open_clip', 'torch', 'lightning') if m in sys.modules])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", help_code], capture_output=True, text=True, env=env, timeout=120
    )
    assert "LOADED []" in out.stdout and "seed" in out.stdout, out.stdout + out.stderr
