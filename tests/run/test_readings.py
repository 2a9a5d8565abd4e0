"""The `reading` presets: each sets exactly the keys documented in winclip_lit.readings.READINGS (and in
docs/fidelity.md), composes with experiments and CLI overrides, and runs end to end."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from omegaconf import OmegaConf
from run_oracle import evaluate_category
from run_support import REPO, make_config

from winclip_lit import TINY_MODEL_NAME, WinCLIP
from winclip_lit.config.validate import model_options
from winclip_lit.engine.context import RunContext
from winclip_lit.metrics import METRIC_KEYS
from winclip_lit.model.prompts import ANOMALIB_TEMPLATES
from winclip_lit.readings import READINGS, reading_table
from winclip_lit.tasks.evaluate import evaluate

PRESETS = sorted(p.stem for p in (REPO / "conf" / "reading").glob("*.yaml"))


def leaves(node: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted key -> value of every leaf of a plain container (lists and empty dicts are leaves)."""
    if isinstance(node, dict) and node:
        out: dict[str, Any] = {}
        for key, value in node.items():
            out.update(leaves(value, f"{prefix}{key}."))
        return out
    return {prefix[:-1]: node}


def composed(*overrides: str) -> dict[str, Any]:
    return leaves(OmegaConf.to_container(make_config(*overrides), resolve=False))


def test_every_preset_file_is_documented_and_global() -> None:
    assert sorted(READINGS) == PRESETS
    for name in PRESETS:
        assert (REPO / "conf" / "reading" / f"{name}.yaml").read_text().startswith("# @package _global_\n")


def test_paper_is_the_default_reading() -> None:
    assert composed() == composed("reading=paper")


@pytest.mark.parametrize("name", sorted(READINGS))
def test_each_reading_sets_exactly_the_documented_keys(name: str) -> None:
    paper, reading = composed("reading=paper"), composed(f"reading={name}")
    assert set(reading) == set(paper)
    changed = {key: reading[key] for key in reading if reading[key] != paper[key]}
    assert changed == READINGS[name]


def test_anomalib_prompt_config_is_the_model_constant() -> None:
    assert tuple(make_config("prompt=anomalib").prompt.templates) == ANOMALIB_TEMPLATES
    assert (
        len(ANOMALIB_TEMPLATES) == 21 and ANOMALIB_TEMPLATES.count("a jpeg corrupted photo of the {}.") == 2
    )


def test_docs_show_the_readings_table() -> None:
    assert reading_table() in (REPO / "docs" / "fidelity.md").read_text()


def test_readings_compose_with_experiments_and_cli_overrides() -> None:
    with_experiment = make_config("experiment=zero_shot_visa", "reading=anomalib")
    assert with_experiment.dataset.name == "visa"
    assert (
        tuple(with_experiment.prompt.templates) == ANOMALIB_TEMPLATES
    )  # the experiment's prompt=paper loses
    cli = make_config(
        "reading=anomalib", "prompt=paper", "prompt.text_average=normalized", "model.temperature=0.01"
    )
    assert len(cli.prompt.templates) == 22 and cli.prompt.text_average == "normalized"
    assert cli.prompt.raw_class_names is True and cli.model.temperature == 0.01


def test_model_options_carry_the_reading() -> None:
    options = model_options(make_config("reading=mala_lab"))
    assert options["temperature"] == 0.01 and options["patch_features"] == "pre_ln_post"
    assert options["tiling"] is True and options["tile_image_score"] == "mean"
    assert options["class_name_map"] == {}
    options = model_options(make_config("reading=anomalib"))
    assert options["raw_class_names"] is True and options["resize_backend"] == "tensor"
    assert options["text_average"] == "raw" and len(options["templates"]) == 21
    assert model_options(make_config("model.patch_features=projected"))["patch_features"] == "projected"
    with pytest.raises(Exception, match="project_patches"):  # one key per choice in configs
        make_config("model.project_patches=true")


@pytest.mark.parametrize("name", ["anomalib", "mala_lab"])
@pytest.mark.slow
def test_reading_runs_end_to_end_like_a_direct_computation(
    name: str, data_dir: Path, mvtec_args: list[str], tmp_path: Path
) -> None:
    """evaluate.py reading=<name> on synthetic 48x64 images (tiled under mala_lab) vs the direct oracle."""
    cfg = make_config(*mvtec_args, f"reading={name}", "shot=1", "dataset.categories=[bottle]")
    result = evaluate(cfg, RunContext(tmp_path, "evaluate"))
    torch.manual_seed(0)
    model = WinCLIP.from_pretrained(TINY_MODEL_NAME, None, **model_options(cfg))
    expected = evaluate_category(
        model, data_dir / "mvtec_anomaly_detection", "bottle", result["references"]["bottle"]
    )
    for key in METRIC_KEYS:
        assert result["categories"]["bottle"][key] == pytest.approx(expected[key], abs=1e-4), key
