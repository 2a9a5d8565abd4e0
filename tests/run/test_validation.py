"""Bad config values fail at composition or right after it with one line naming key, value and rule."""

from __future__ import annotations

from pathlib import Path

import pytest
from hydra.errors import HydraException
from omegaconf.errors import OmegaConfBaseException
from run_support import TINY, make_config, run_cli

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
    "threshold.method=otsu": "threshold.method=otsu: one of none, fixed, conformal, f1",
    "threshold.value=2": "threshold.value=2.0: a number in [0, 1]",
    "threshold.alpha=0": "threshold.alpha=0.0: a false-alarm rate in (0, 1)",
    "threshold.num_calibration=0": "threshold.num_calibration=0: an integer >= 1",
    "threshold.validation_split=1": "threshold.validation_split=1.0: a fraction of the test set in (0, 1)",
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


def test_conformal_threshold_needs_enough_calibration_images_for_its_alpha() -> None:
    validate(make_config("threshold=conformal"), model=False)  # defaults: alpha 0.01, 100 images
    validate(
        make_config("threshold=conformal", "threshold.num_calibration=19", "threshold.alpha=0.05"),
        model=False,
    )
    with pytest.raises(ConfigError) as caught:
        validate(make_config("threshold=conformal", "threshold.num_calibration=18", "threshold.alpha=0.05"))
    assert str(caught.value).startswith("threshold.num_calibration=18 is too small for threshold.alpha=0.05")
    assert "at least 19 normal calibration images" in str(caught.value) and "\n" not in str(caught.value)
    validate(make_config("threshold=f1", "threshold.num_calibration=1"), model=False)  # only conformal asks


def test_predict_threshold_is_unchanged_by_the_threshold_group() -> None:
    """predict.threshold: null = the checkpoint's calibrated thresholds, else 0.5; the group never sets it."""
    from winclip_lit.reporting.predictions import choose_thresholds

    cfg = make_config()
    assert cfg.threshold.method == "none" and cfg.predict.threshold is None
    assert make_config("threshold=fixed", "threshold.value=0.7").predict.threshold is None
    assert choose_thresholds(None, None, "no checkpoint").image == 0.5


@pytest.mark.slow
def test_the_command_refuses_too_few_calibration_images_in_one_line(tmp_path: Path) -> None:
    args = ("threshold=conformal", "threshold.num_calibration=9", "threshold.alpha=0.05")
    result = run_cli(tmp_path, "evaluate.py", *TINY, *args, check=False)
    assert result.returncode == 2, result.stderr
    assert "threshold.num_calibration=9 is too small for threshold.alpha=0.05" in result.stderr
    assert "Traceback" not in result.stderr
