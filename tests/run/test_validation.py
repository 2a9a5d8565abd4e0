"""Bad config values fail at composition or right after it with one line naming key, value and rule."""

from __future__ import annotations

import pytest
from hydra.errors import HydraException
from omegaconf.errors import OmegaConfBaseException
from run_support import make_config

from winclip_lit.cli import one_line
from winclip_lit.config.errors import ConfigError
from winclip_lit.config.validate import validate

RANGE_CASES = {
    "model.temperature=0": "model.temperature=0.0: a number > 0",
    "window.scales=[0]": "window.scales=[0]: window sizes are integers >= 1",
    "window.scales=[20]": "larger than the patch grid of ViT-B-16-plus-240 (15x15 patches)",
    "window.scales=[]": "window.scales=[]: list at least one window size",
    "window.stride=0": "window.stride=0: an integer >= 1",
    "model.precision=fp8": "model.precision=fp8: one of fp32, bf16, fp16",
    "model.few_shot_weight=2": "model.few_shot_weight=2.0: a number in [0, 1]",
    "model.max_tokens=0": "model.max_tokens=0: an integer >= 1",
    "metrics.mode=fast": "metrics.mode=fast: one of exact, binned",
    "metrics.fpr_limit=0": "metrics.fpr_limit=0.0: a number in (0, 1]",
    "loader.batch_size=0": "loader.batch_size=0: an integer >= 1",
    "loader.num_workers=-1": "loader.num_workers=-1: an integer >= 0",
    "shot.k=-1": "shot.k=-1: an integer >= 0",
    "prompt.templates=[a photo]": "every phrase holds exactly one {}",
    "prompt.text_average=median": "prompt.text_average=median: one of normalized, raw",
}

TYPE_CASES = {
    "model.temperature=abc": "model.temperature",
    "shot.k=1.5": "shot.k",
    "loader.batch_size=eight": "loader.batch_size",
    "window.stride=1.5": "window.stride",
    "model.compile=maybe": "model.compile",
    "model.temprature=0.1": "temprature",
}


@pytest.mark.parametrize("override", sorted(RANGE_CASES))
def test_bad_values_are_one_line_naming_the_key(override: str) -> None:
    cfg = make_config(override)
    with pytest.raises(ConfigError) as caught:
        validate(cfg)
    message = str(caught.value)
    assert "\n" not in message and RANGE_CASES[override] in message, message


@pytest.mark.parametrize("override", sorted(TYPE_CASES))
def test_wrong_types_fail_at_composition(override: str) -> None:
    with pytest.raises((HydraException, OmegaConfBaseException)) as caught:
        make_config(override)
    line = one_line(caught.value)
    assert TYPE_CASES[override] in line and "\n" not in line


def test_window_grid_is_the_backbone_grid() -> None:
    validate(make_config("backbone=tiny_random", "window.scales=[8]"))  # 64 px / 8 px patches
    with pytest.raises(ConfigError, match=r"\(8x8 patches\); use sizes up to 8"):
        validate(make_config("backbone=tiny_random", "window.scales=[9]"))


def test_integers_stay_integers() -> None:
    cfg = make_config("shot.k=3", "seed=2")
    assert type(cfg.shot.k) is int and type(cfg.seed) is int
