"""Launch helpers: hydra/launcher options compose; one GPU per parallel job; DDP launch bookkeeping."""

from __future__ import annotations

from pathlib import Path

import pytest
from omegaconf import OmegaConf
from run_support import REPO, make_config

from winclip_lit.engine.context import RunContext
from winclip_lit.engine.devices import num_processes
from winclip_lit.engine.distributed import gpu_slot, launch
from winclip_lit.engine.errors import ConfigError


@pytest.mark.parametrize(
    "launcher", sorted(p.stem for p in (REPO / "conf" / "hydra" / "launcher").glob("*.yaml"))
)
def test_launcher_options_compose(launcher: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WINCLIP_NUM_GPUS", "4")
    cfg = make_config(f"hydra/launcher={launcher}", hydra=True)
    target = cfg.hydra.launcher._target_
    assert ("JoblibLauncher" if launcher == "parallel" else "SlurmLauncher") in target
    if launcher == "parallel":
        assert cfg.hydra.launcher.n_jobs == 4


def test_parallel_jobs_hold_different_gpus(tmp_path: Path) -> None:
    with gpu_slot(tmp_path, 3) as first, gpu_slot(tmp_path, 3) as second:
        assert (first, second) == (0, 1)
        with gpu_slot(tmp_path, 3) as third:
            assert third == 2
    with gpu_slot(tmp_path, 3) as again:
        assert again == 0  # released on exit


def test_single_device_runs_in_process_and_spawn_strategies_are_refused(tmp_path: Path) -> None:
    cfg = make_config()
    assert launch(lambda c, r: (c.shot.k, r.name), cfg, RunContext(tmp_path, "evaluate", name="x")) == (
        0,
        "x",
    )
    assert num_processes(OmegaConf.create({"accelerator": "cpu", "devices": [0, 1]})) == 2
    assert num_processes(OmegaConf.create({"accelerator": "cpu", "devices": "auto"})) == 1
    ddp_spawn = make_config(
        "trainer=ddp", "trainer.accelerator=cpu", "trainer.devices=2", "trainer.strategy=ddp_spawn"
    )
    with pytest.raises(ConfigError, match="strategy=ddp"):
        launch(lambda c, r: None, ddp_spawn, RunContext(tmp_path, "evaluate"))


def test_sweep_jobs_share_a_wandb_group_and_are_named_by_their_overrides(tmp_path: Path) -> None:
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode
    from omegaconf import open_dict

    from winclip_lit.engine.context import hydra_context

    cfg = make_config("shot=1", hydra=True)
    with open_dict(cfg):
        cfg.hydra.mode = RunMode.MULTIRUN
        cfg.hydra.job.name = "evaluate"
        cfg.hydra.sweep.dir = str(tmp_path / "evaluate-multirun" / "2026-01-01_00-00-00")
        cfg.hydra.runtime.output_dir = str(tmp_path / "evaluate-multirun" / "2026-01-01_00-00-00" / "3_x")
        cfg.hydra.overrides.task = ["seed=2", "shot=1", "logger=csv", "loader.batch_size=2"]
    HydraConfig.instance().set_config(cfg)
    try:
        run = hydra_context()
    finally:
        HydraConfig.instance().cfg = None
    assert run.multirun and run.group == "evaluate-2026-01-01_00-00-00"
    assert run.name == "seed=2,shot=1" and run.output_dir.name == "3_x"
