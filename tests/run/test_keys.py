"""One source of truth: the feature/score/runtime split of the options drives the fingerprint, job names,
checkpoints and report grouping."""

from __future__ import annotations

import dataclasses

import torch

from winclip_lit import TINY_MODEL_NAME, WinCLIP
from winclip_lit.config.keys import feature_keys, is_runtime, run_name, score_keys, setting_of
from winclip_lit.config.schema import ModelConfig, PromptConfig, WindowConfig
from winclip_lit.model.options import FEATURE, SCORE, WinCLIPOptions, option_specs


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
    name = run_name(["shot=1", "seed=2", "loader.batch_size=4", "trainer=ddp", "model.temperature=0.01"])
    assert name == "model.temperature=0.01,seed=2,shot=1"
    a = setting_of({"model": {"temperature": 0.07, "max_tokens": 8}, "loader": {"batch_size": 2}, "seed": 1})
    b = setting_of({"model": {"temperature": 0.07, "max_tokens": 9}, "loader": {"batch_size": 8}, "seed": 2})
    assert a == b == {"model.temperature": 0.07}


def test_unknown_option_names_a_close_one() -> None:
    try:
        WinCLIPOptions.from_mapping({"temprature": 0.1})
    except ValueError as error:
        assert "did you mean temperature" in str(error)
    else:  # pragma: no cover
        raise AssertionError("unknown option accepted")
