"""One source of truth: the feature/score/runtime split of the options drives the fingerprint, job names,
checkpoints and report grouping."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
import torch

from winclip_lit import TINY_MODEL_NAME, WinCLIP
from winclip_lit.config.keys import (
    FREE_FORM_GROUPS,
    KEY_ROLES,
    ROLES,
    RUNTIME,
    declared_role,
    defines_results,
    feature_keys,
    flatten,
    is_runtime,
    role_of,
    roles_of,
    run_name,
    score_keys,
    setting_of,
)
from winclip_lit.config.schema import ModelConfig, PromptConfig, WindowConfig
from winclip_lit.model.options import FEATURE, SCORE, WinCLIPOptions, option_specs

CONF = Path(__file__).resolve().parents[2] / "src" / "winclip_lit" / "conf"


def test_every_option_has_one_role_and_a_config_key() -> None:
    specs = option_specs()
    assert len({s.config_key for s in specs}) == len(specs)
    schema_keys = {
        f"{group}.{f.name}"
        for group, schema in (("window", WindowConfig), ("prompt", PromptConfig), ("model", ModelConfig))
        for f in dataclasses.fields(schema)
    }
    option_keys = {s.config_key for s in specs if s.group in ("window", "prompt", "model")}
    assert schema_keys == option_keys
    assert set(feature_keys()) >= {"backbone.model_name", "window.scales", "window.stride", "model.precision"}
    assert set(score_keys()) >= {"model.temperature", "prompt.templates", "model.few_shot_weight"}
    assert is_runtime("model.max_tokens") and is_runtime("loader.num_workers")
    assert not is_runtime("model.temperature") and not is_runtime("window.scales")


def test_fingerprint_changes_with_every_feature_option_and_no_score_option() -> None:
    torch.manual_seed(0)
    base = WinCLIP.from_pretrained(TINY_MODEL_NAME, None)
    clip, tok = base.clip, base.tokenizer
    reference = WinCLIP(clip, tok).feature_fingerprint()
    changed = {
        "scales": (2,),
        "stride": 2,
        "patch_features": "projected",
        "precision": "bf16",
        "resize_backend": "tensor",
        "tiling": True,
        "tile_stride": 0.5,
    }
    assert {s.name for s in option_specs(FEATURE) if s.group != "backbone"} == set(changed)
    for name, value in changed.items():
        assert WinCLIP(clip, tok, **{name: value}).feature_fingerprint() != reference, name
    unchanged = {
        "temperature": 0.01,
        "templates": ("a {}.",),
        "normal_states": ("{}",),
        "anomalous_states": ("bad {}",),
        "text_average": "raw",
        "fixed_class_name": "object",
        "class_name_map": {},
        "few_shot_weight": 1.0,
        "smoothing_sigma": 1.0,
        "raw_class_names": True,
        "tile_image_score": "mean",
    }
    assert {s.name for s in option_specs(SCORE)} == set(unchanged)
    for name, value in unchanged.items():
        assert WinCLIP(clip, tok, **{name: value}).feature_fingerprint() == reference, name
    assert WinCLIP(clip, tok, max_tokens=64).feature_fingerprint() == reference


def test_job_names_and_report_settings_leave_runtime_keys_out() -> None:
    name = run_name(
        [
            "shot=1",
            "seed=2",
            "loader.batch_size=4",
            "trainer=ddp",
            "model.temperature=0.01",
            "dashboard.figures=false",
        ]
    )
    assert name == "model.temperature=0.01,seed=2,shot=1"
    a = setting_of({"model": {"temperature": 0.07, "max_tokens": 8}, "loader": {"batch_size": 2}, "seed": 1})
    b = setting_of(
        {"model": {"temperature": 0.07, "max_tokens": 9}, "dashboard": {"figures": False}, "seed": 2}
    )
    assert a == b == {"model.temperature": 0.07}


def test_unknown_option_names_a_close_one() -> None:
    try:
        WinCLIPOptions.from_mapping({"temprature": 0.1})
    except ValueError as error:
        assert "did you mean temperature" in str(error)
    else:  # pragma: no cover
        raise AssertionError("unknown option accepted")


def _group_options() -> list[tuple[str, str]]:
    """(group, option) of every config group option in conf/ (Hydra's own launcher group aside)."""
    return sorted(
        (path.parent.name, path.stem) for path in CONF.glob("*/*.yaml") if path.parent.name != "hydra"
    )


def _composed_keys() -> set[str]:
    """Every leaf key of config.yaml with each group option in turn, and of report.yaml."""
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    from winclip_lit.config.hydra_setup import prepare_hydra

    prepare_hydra()
    keys: set[str] = set()
    with initialize_config_dir(str(CONF), version_base="1.3"):
        for overrides in [[], *([f"{group}={option}"] for group, option in _group_options())]:
            cfg = compose("config", overrides=overrides)
            keys |= set(flatten(OmegaConf.to_container(cfg, resolve=False)))
        keys |= set(flatten(OmegaConf.to_container(compose("report"), resolve=False)))
    return keys


@pytest.mark.slow
def test_every_key_of_every_composed_config_has_a_role() -> None:
    keys = _composed_keys()
    free = [k for k in keys if any(k == g or k.startswith(g + ".") for g in FREE_FORM_GROUPS)]
    undeclared = sorted(k for k in set(keys) - set(free) if declared_role(k) is None)
    assert not undeclared, f"config keys without a role in winclip_lit.config.keys: {undeclared}"
    assert all(role_of(k) in ROLES for k in keys)
    stale = sorted(set(KEY_ROLES) - keys)
    assert not stale, f"roles of keys that no config has: {stale}"
    groups = {group for group, _ in _group_options()} | {"hydra/launcher"}
    assert all(roles_of(group) for group in groups)


def test_model_options_keep_their_roles_and_the_data_defines_results() -> None:
    for spec in option_specs():
        assert role_of(spec.config_key) == spec.role, spec
    for key in ("dataset.root", "dataset.categories", "dataset.reference_split", "dataset", "shot", "seed"):
        assert defines_results(key), key
    for key in ("dashboard.figures", "dashboard", "trainer.devices", "logger", "hydra/launcher", "resume"):
        assert role_of(key) == RUNTIME and not defines_results(key), key
    assert (
        defines_results("experiment") and defines_results("reading") and not defines_results("hparams_search")
    )
    assert defines_results("dataset.my_own_option")  # a key no table knows splits rather than merges


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("/data/one/mvtec_anomaly_detection", "/data/two/mvtec_anomaly_detection"),
        ("/data/mvtec", "/data/mvtec/"),
        ("/a/" + "x" * 300, "/a/" + "x" * 299 + "y"),
    ],
)
def test_job_names_show_paths_short_safe_and_unique(a: str, b: str) -> None:
    name_a, name_b = (
        run_name([f"dataset.root={root}", "shot=1", "dashboard.figures=false"]) for root in (a, b)
    )
    assert name_a != name_b
    for name in (name_a, name_b):
        assert re.fullmatch(r"dataset\.root=[\w.-]{1,24}-[0-9a-f]{8},shot=1", name), name
    assert run_name(["dataset.root=/x/mvtec_anomaly_detection"]).startswith(
        "dataset.root=mvtec_anomaly_detection-"
    )
    assert run_name(["dataset.categories=[bottle,screw]"]) == "dataset.categories=bottle,screw"
