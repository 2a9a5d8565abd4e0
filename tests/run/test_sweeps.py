"""W&B Sweeps: wandb's own agent code expands our sweep files into commands whose arguments, through
``hydra_overrides``, compose with the project's config and set the swept keys."""

from __future__ import annotations

import itertools
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from run_support import REPO, make_config
from wandb import wandb_agent

from winclip_lit.cli.argv import hydra_overrides
from winclip_lit.engine.errors import ConfigError

SWEEPS = REPO / "sweeps"
CONF = REPO / "src" / "winclip_lit" / "conf"

RECORDER = """import json, os, sys
with open(f"argv-{os.environ['WANDB_RUN_ID']}.json", "w") as f:
    json.dump(sys.argv, f)
"""


@pytest.fixture()
def agent_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder whose ``evaluate.py`` records its argv, with ``python`` on PATH."""
    (tmp_path / "evaluate.py").write_text(RECORDER)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python").symlink_to(sys.executable)
    console_script = bin_dir / "winclip-lit"  # stands in for the installed console script
    console_script.write_text(f"#!{sys.executable}\n{RECORDER}")
    console_script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.chdir(tmp_path)
    # The agent writes these into os.environ; monkeypatch restores them afterwards.
    for name in ("WANDB_DIR", "WANDB_RUN_ID", "WANDB_SWEEP_PARAM_PATH"):
        monkeypatch.setenv(name, str(tmp_path) if name == "WANDB_DIR" else "unset")
    return tmp_path


def agent_argv(sweep: dict[str, Any], params: dict[str, Any], run_id: str) -> list[str]:
    """The argv of the program that wandb's agent starts for one run of ``sweep`` with ``params``."""
    agent = wandb_agent.Agent(api=None, queue=None, sweep_id="offline")
    agent._sweep_command = list(sweep.get("command") or [])  # as Agent.run does with the sweep config
    command = {
        "type": "run",
        "run_id": run_id,
        "program": sweep["program"],
        "args": {k: {"value": v} for k, v in params.items()},
    }
    agent._command_run(command)
    assert agent._run_processes[run_id].wait(timeout=60) == 0
    return json.loads(Path(f"argv-{run_id}.json").read_text())


def load(name: str) -> dict[str, Any]:
    return yaml.safe_load((SWEEPS / name).read_text())


def grid_runs(sweep: dict[str, Any]) -> list[dict[str, Any]]:
    params = sweep["parameters"]
    names = list(params)
    choices = [p["values"] if "values" in p else [p["value"]] for p in params.values()]
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*choices)]


def test_grid_sweep_expands_to_hydra_overrides(agent_dir: Path) -> None:
    sweep = load("grid_shot_seed_mvtec.yaml")
    assert sweep["method"] == "grid" and sweep["program"] == "evaluate.py"
    assert sweep["metric"] == {"name": "mean/pixel_aupro", "goal": "maximize"}
    runs = grid_runs(sweep)
    assert {(r["shot"], r["seed"]) for r in runs} == set(itertools.product([1, 2, 4], [0, 1, 2]))
    argv = agent_argv(sweep, runs[4], "grid4")
    assert argv == ["evaluate.py", "shot=2", "seed=1", "dataset=mvtec", "cache.enabled=True"]
    assert hydra_overrides(argv[1:]) == argv[1:]


def test_console_script_command_expands_the_same_way(agent_dir: Path) -> None:
    """``command: [${env}, winclip-lit, evaluate, ${args_no_hyphens}]`` (docs/experiments.md)."""
    sweep = {
        **load("grid_shot_seed_mvtec.yaml"),
        "command": ["${env}", "winclip-lit", "evaluate", "${args_no_hyphens}"],
    }
    argv = agent_argv(sweep, grid_runs(sweep)[0], "console")
    assert Path(argv[0]).name == "winclip-lit"
    assert argv[1:] == ["evaluate", "shot=1", "seed=0", "dataset=mvtec", "cache.enabled=True"]


def test_grid_sweep_runs_compose_with_the_config(agent_dir: Path) -> None:
    sweep = load("grid_shot_seed_mvtec.yaml")
    for i, run in enumerate(grid_runs(sweep)):
        cfg = make_config(*hydra_overrides(agent_argv(sweep, run, f"g{i}")[1:]))
        assert (cfg.shot.k, cfg.seed, cfg.dataset.name, cfg.cache.enabled) == (
            run["shot"],
            run["seed"],
            "mvtec",
            True,
        )


@pytest.mark.parametrize(
    ("temperature", "weight", "window"),
    [(0.01, 0.0, "paper"), (0.2, 1.0, "small"), (0.0437, 0.25, "multi"), (0.07, 0.5, "stride2")],
)
def test_bayes_sweep_runs_compose_with_the_config(
    agent_dir: Path, temperature: float, weight: float, window: str
) -> None:
    sweep = load("bayes_scoring.yaml")
    params = sweep["parameters"]
    assert sweep["method"] == "bayes" and sweep["metric"] == {"name": "mean/pixel_aupro", "goal": "maximize"}
    assert params["model.temperature"]["min"] <= temperature <= params["model.temperature"]["max"]
    assert window in params["window"]["values"]
    run = {
        "model.temperature": temperature,
        "model.few_shot_weight": weight,
        "window": window,
        "shot": params["shot"]["value"],
        "dataset": params["dataset"]["value"],
        "cache.enabled": True,
    }
    argv = agent_argv(sweep, run, f"bayes-{window}")
    cfg = make_config(*hydra_overrides(argv[1:]))
    expected = yaml.safe_load((CONF / "window" / f"{window}.yaml").read_text())
    assert cfg.model.temperature == temperature and cfg.model.few_shot_weight == weight
    assert list(cfg.window.scales) == expected["scales"] and cfg.window.stride == expected["stride"]
    assert (cfg.shot.k, cfg.dataset.name) == (4, "visa")


@pytest.mark.parametrize("command", [None, ["${env}", "${interpreter}", "${program}", "${args_no_equals}"]])
def test_a_users_sweep_with_hyphenated_arguments_composes(agent_dir: Path, command: list[str] | None) -> None:
    """W&B's default command passes ``--key=value``; ``${args_no_equals}`` passes ``--key value``."""
    sweep = {"program": "evaluate.py", "command": command}
    run = {"shot": 2, "model.temperature": 0.05, "prompt": "single_template"}
    argv = agent_argv(sweep, run, "user")
    expected = ["--shot=2", "--model.temperature=0.05", "--prompt=single_template"]
    assert argv[1:] == (expected if command is None else [a for e in expected for a in e.split("=")])
    cfg = make_config(*hydra_overrides(argv[1:]))
    assert (cfg.shot.k, cfg.model.temperature, cfg.prompt.templates) == (
        2,
        0.05,
        make_config("prompt=single_template").prompt.templates,
    )


def test_hydra_flags_and_overrides_pass_through() -> None:
    argv = [
        "-m",
        "--multirun",
        "--cfg",
        "job",
        "--resolve",
        "--config-name",
        "config",
        "-cn=config",
        "--help",
        "--info",
        "defaults",
        "-i",
        "shot=1",
        "+extra=1",
        "~loader",
        "--hydra-help",
        "--package=_global_",
    ]
    assert hydra_overrides(argv) == argv
    mixed = [
        "--shot=4",
        "window=small",
        "--model.temperature",
        "-0.5",
        "--cfg=job",
        "--+new.key=3",
        "--",
        "--x=1",
    ]
    assert hydra_overrides(mixed) == [
        "shot=4",
        "window=small",
        "model.temperature=-0.5",
        "--cfg=job",
        "+new.key=3",
        "--",
        "--x=1",
    ]


@pytest.mark.parametrize("argv", [["--shot"], ["--shot", "--seed=1"], ["--shot", "seed=1"]])
def test_a_key_without_value_is_one_clear_error(argv: list[str]) -> None:
    with pytest.raises(
        ConfigError, match=r"^argument --shot has no value; write shot=<value> or --shot=<value>$"
    ):
        hydra_overrides(argv)
