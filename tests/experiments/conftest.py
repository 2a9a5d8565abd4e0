"""Fixtures of the experiment tests: synthetic datasets, the tiny backbone, CLI runs in subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
CATEGORIES = ("bottle", "metal_nut")
TINY = ["backbone=tiny_random", "logger=none", "loader.num_workers=0", "trainer.enable_progress_bar=false"]
"""Overrides of every CLI test: tiny random backbone, no tracking, no worker processes."""


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """WINCLIP_DATA-style folder with synthetic MVTec-AD (2 categories), VisA (1) and a plain folder."""
    from winclip_lit.data.synthetic import make_folder, make_mvtec, make_visa

    root = tmp_path_factory.mktemp("data")
    make_mvtec(root / "mvtec_anomaly_detection", categories=CATEGORIES, n_train=4, n_good_test=3, n_defect=2)
    make_visa(root / "visa", categories=("candle",), n_train=4, n_good_test=3, n_defect=3)
    make_folder(root / "folder", n_normal=8, n_abnormal=(2, 2))
    return root


@pytest.fixture(scope="session")
def mvtec_args(data_dir: Path) -> list[str]:
    """Overrides for the synthetic MVTec-AD with the tiny backbone."""
    return [
        *TINY,
        f"dataset.root={data_dir / 'mvtec_anomaly_detection'}",
        f"dataset.categories=[{','.join(CATEGORIES)}]",
    ]


def cli_env(tmp: Path) -> dict[str, str]:
    """Environment of CLI runs: W&B and the model hub offline, outputs under ``tmp``."""
    env = {k: v for k, v in os.environ.items() if k not in ("HYDRA_FULL_ERROR", "WINCLIP_FULL_ERROR")}
    env.update(
        WANDB_MODE="disabled",
        WANDB_SILENT="true",
        HF_HUB_OFFLINE="1",
        WINCLIP_OUTPUT=str(tmp / "outputs"),
        WINCLIP_CACHE=str(tmp / "cache"),
    )
    return env


def run_cli(
    tmp: Path, script: str, *args: str, check: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Run an entry point (``run_cli(tmp, "evaluate.py", *overrides)``) from the repository root."""
    result = subprocess.run(
        [sys.executable, str(REPO / script), *args],
        cwd=REPO,
        env={**cli_env(tmp), **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"{script} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


@pytest.fixture(scope="session")
def shot2_run(tmp_path_factory: pytest.TempPathFactory, mvtec_args: list[str]) -> Path:
    """One `evaluate.py shot=2` run on the synthetic MVTec-AD (shared by several tests)."""
    tmp = tmp_path_factory.mktemp("shot2")
    run_cli(tmp, "evaluate.py", *mvtec_args, "shot=2", f"hydra.run.dir={tmp / 'run'}")
    return tmp / "run"


@pytest.fixture(scope="session")
def fit_run(tmp_path_factory: pytest.TempPathFactory, mvtec_args: list[str]) -> Path:
    """One `train.py shot=2` run on the synthetic MVTec-AD: its folder holds checkpoint.pt."""
    tmp = tmp_path_factory.mktemp("fit")
    run_cli(tmp, "train.py", *mvtec_args, "shot=2", f"hydra.run.dir={tmp / 'run'}")
    return tmp / "run"


def read_metrics(run_dir: Path) -> dict[str, Any]:
    """The metrics.json of a run folder."""
    return json.loads((run_dir / "metrics.json").read_text())
