"""Every config group option and every experiment composes; experiments run on the tiny backbone."""

from __future__ import annotations

from pathlib import Path

import pytest
from omegaconf import OmegaConf
from run_support import REPO, make_config

from winclip_lit.config import CONFIG_DIR
from winclip_lit.engine.context import RunContext
from winclip_lit.model import prompts
from winclip_lit.tasks.evaluate import evaluate

GROUPS = (
    "backbone",
    "window",
    "prompt",
    "shot",
    "dataset",
    "logger",
    "trainer",
    "threshold",
    "experiment",
    "hparams_search",
)
EXPERIMENTS = sorted(p.stem for p in (REPO / "conf" / "experiment").glob("*.yaml"))


def options(group: str) -> list[str]:
    return sorted(p.stem for p in (REPO / "conf" / group).glob("*.yaml"))


def test_config_dir_is_the_repository_conf() -> None:
    assert Path(CONFIG_DIR) == (REPO / "conf").resolve()


def test_defaults_are_the_paper_zero_shot_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WINCLIP_DATA", raising=False)
    monkeypatch.delenv("WINCLIP_WEIGHTS", raising=False)
    cfg = OmegaConf.to_container(make_config(), resolve=True)
    assert cfg["backbone"] == {
        "model_name": "ViT-B-16-plus-240",
        "pretrained": "laion400m_e31",
        "cache_dir": None,
    }
    assert cfg["window"] == {"scales": [2, 3], "stride": 1}
    assert cfg["shot"]["k"] == 0 and cfg["model"]["temperature"] == 0.07
    assert cfg["dataset"]["name"] == "mvtec" and cfg["dataset"]["categories"] == "all"
    assert cfg["dataset"]["root"] == "./data/mvtec_anomaly_detection"
    assert list(cfg["logger"]) == ["wandb"] and cfg["trainer"]["accelerator"] == "cpu"
    assert cfg["seed"] == 0 and cfg["shot"] == {"k": 0}


def test_paper_prompts_are_the_model_defaults() -> None:
    cfg = make_config()
    assert tuple(cfg.prompt.normal_states) == prompts.NORMAL_STATES
    assert tuple(cfg.prompt.anomalous_states) == prompts.ANOMALOUS_STATES
    assert tuple(cfg.prompt.templates) == prompts.TEMPLATES
    assert len(cfg.prompt.templates) * len(cfg.prompt.normal_states) == 154
    assert len(cfg.prompt.templates) * len(cfg.prompt.anomalous_states) == 88


@pytest.mark.parametrize("group", GROUPS)
def test_every_option_of_every_group_composes(group: str) -> None:
    names = options(group)
    assert names, group
    for name in names:
        cfg = OmegaConf.to_container(make_config(f"{group}={name}"), resolve=True)
        assert {"backbone", "window", "prompt", "shot", "dataset", "logger", "trainer", "model"} <= set(cfg)


def test_numeric_shot_options_and_any_k_without_rewriting_argv() -> None:
    for k in (0, 1, 2, 4):
        assert make_config(f"shot={k}").shot.k == k
    assert make_config("shot=4", "shot.k=8").shot.k == 8
    assert make_config("shot.k=8", "seed=3").seed == 3


def test_ablation_options_differ_from_the_paper_preset() -> None:
    paper = make_config()
    assert make_config("window=small").window.scales == [2]
    assert make_config("window=multi").window.scales == [2, 3, 4]
    assert list(make_config("prompt=single_template").prompt.templates) == ["a photo of a {}."]
    assert list(make_config("prompt=state_only").prompt.templates) == ["{}"]
    raw = make_config("prompt=raw_average").prompt
    assert raw.text_average == "raw" and raw.templates == paper.prompt.templates


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_experiment_sweeps_and_cli_overrides(experiment: str) -> None:
    cfg = make_config(f"experiment={experiment}", "backbone=tiny_random", hydra=True)
    assert cfg.backbone.model_name == "winclip-tiny-vit"  # the command line wins over the experiment
    params = cfg.hydra.sweeper.params or {}
    if experiment.startswith("few_shot"):
        assert {k: v for k, v in params.items() if k != "dataset"} == {"shot": "1,2,4", "seed": "0,1,2"}
    if "ablation" in experiment:
        axis = "window" if experiment.startswith("window") else "prompt"
        assert set(params[axis].split(",")) == set(options(axis))


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_every_experiment_runs_on_the_tiny_backbone(
    experiment: str, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WINCLIP_DATA", str(data_dir))
    category = "candle" if experiment.endswith("visa") else "bottle"
    cfg = make_config(
        f"experiment={experiment}",
        "backbone=tiny_random",
        "logger=none",
        "loader.num_workers=0",
        "trainer.enable_progress_bar=false",
        f"dataset.categories=[{category}]",
    )
    result = evaluate(cfg, RunContext(tmp_path, "evaluate", name=experiment))
    assert list(result["categories"]) == [category]
    assert all(0.0 <= v <= 1.0 for v in result["mean"].values())
    assert (tmp_path / "metrics.json").is_file()
