"""Sweeps from the command line: W&B agent-style arguments, Optuna trials returning the objective, and
bad sweep input as one line with a non-zero exit."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from run_support import REPO, TINY, cli_env, read_metrics, run_cli

pytestmark = pytest.mark.slow


def test_agent_style_arguments_run(data_dir: Path, tmp_path: Path) -> None:
    """A W&B agent with the default command passes --key=value; they mix with ordinary overrides."""
    run_cli(
        tmp_path,
        "evaluate.py",
        *TINY,
        f"--dataset.root={data_dir / 'mvtec_anomaly_detection'}",
        "--dataset.categories=[bottle]",
        "--shot=1",
        "--seed=2",
        "--model.temperature=0.05",
        f"hydra.run.dir={tmp_path / 'run'}",
    )
    config = read_metrics(tmp_path / "run")["config"]
    assert config["shot"]["k"] == 1 and config["seed"] == 2 and config["model"]["temperature"] == 0.05


def test_optuna_runs_three_trials_and_maximises_the_objective(data_dir: Path, tmp_path: Path) -> None:
    sweep = tmp_path / "optuna"
    run_cli(
        tmp_path,
        "evaluate.py",
        "hparams_search=optuna",
        "hydra.sweeper.n_trials=3",
        *TINY,
        f"dataset.root={data_dir / 'mvtec_anomaly_detection'}",
        "dataset.categories=[bottle]",
        "shot=1",
        f"hydra.sweep.dir={sweep}",
    )
    trials = sorted(sweep.glob("*/metrics.json"))
    assert len(trials) == 3
    best = yaml.safe_load((sweep / "optimization_results.yaml").read_text())
    values = [read_metrics(t.parent)["mean"]["pixel_aupro"] for t in trials]
    assert best["best_value"] == max(values)


def test_bad_sweep_input_is_one_line(data_dir: Path, tmp_path: Path) -> None:
    root = data_dir / "mvtec_anomaly_detection"
    cases = {
        "unknown_logger": (["logger=tensorbored"], "Could not find 'logger/tensorbored'"),
        "missing_search_key": (
            [
                "hparams_search=optuna",
                "hydra.sweeper.n_trials=1",
                "+hydra.sweeper.params.model.temprature=interval(0.01,0.1)",
            ],
            "temprature",
        ),
        "wrong_type": (["-m", "shot.k=1,one"], "shot.k"),
    }
    procs = {
        name: subprocess.Popen(
            [
                sys.executable,
                str(REPO / "evaluate.py"),
                *TINY,
                *args,
                f"dataset.root={root}",
                "dataset.categories=[bottle]",
                f"hydra.sweep.dir={tmp_path / name}",
            ],
            cwd=REPO,
            env=cli_env(tmp_path),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, (args, _) in cases.items()
    }
    for name, proc in procs.items():
        _, stderr = proc.communicate(timeout=600)
        lines = [line for line in stderr.splitlines() if line.strip() and not line.startswith("[")]
        assert proc.returncode != 0, (name, stderr)
        assert "Traceback" not in stderr, (name, stderr)
        assert any(cases[name][1] in line for line in lines), (name, stderr)
        assert lines[-1].startswith("winclip-lit evaluate: error:"), (name, stderr)
    # Hydra checks every job of a sweep batch before launching it: nothing ran, nothing half-written
    assert not list((tmp_path / "wrong_type").glob("*/metrics.json"))
