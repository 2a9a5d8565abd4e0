"""Helpers of the run-layer tests: paths, CLI runs in subprocesses, config composition."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from hydra import compose, initialize_config_dir
from omegaconf import DictConfig
from subprocess_env import subprocess_env

from winclip_lit.config import CONFIG_DIR
from winclip_lit.config.hydra_setup import prepare_hydra

REPO = Path(__file__).resolve().parents[2]
CATEGORIES = ("bottle", "metal_nut")
TINY = ["backbone=tiny_random", "logger=none", "loader.num_workers=0", "trainer.enable_progress_bar=false"]
"""Overrides of every CLI test: tiny random backbone, no tracking, no worker processes."""


def cli_env(tmp: Path) -> dict[str, str]:
    """Environment of CLI runs: W&B and the model hub offline, outputs under ``tmp``."""
    return subprocess_env(tmp)


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


def read_metrics(run_dir: Path) -> dict[str, Any]:
    """The metrics.json of a run folder."""
    return json.loads((run_dir / "metrics.json").read_text())


def make_config(*overrides: str, hydra: bool = False) -> DictConfig:
    """Compose conf/config.yaml with command-line style overrides (numeric shot options allowed)."""
    prepare_hydra()
    with initialize_config_dir(CONFIG_DIR, version_base="1.3"):
        return compose("config", overrides=list(overrides), return_hydra_config=hydra)
