"""Range checks right after composition: one line naming the key, the value and what is allowed.

Types are checked by the schemas while Hydra composes; the model options by
:class:`~winclip_lit.model.options.WinCLIPOptions` itself, so the rules live in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from omegaconf import DictConfig, OmegaConf

from winclip_lit.config.errors import ConfigError
from winclip_lit.deploy.sidecar import DEFAULT_OPSET, OPSETS
from winclip_lit.model.options import InvalidOptionError, WinCLIPOptions, option_specs

METRIC_MODES = ("exact", "binned")
THRESHOLD_METHODS = ("none", "fixed", "conformal", "f1")

_RULES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "shot.k": (lambda v: v >= 0, "an integer >= 0 (0: zero-shot)"),
    "seed": (lambda v: v >= 0, "an integer >= 0"),
    "loader.batch_size": (lambda v: v >= 1, "an integer >= 1"),
    "loader.num_workers": (lambda v: v is None or v >= 0, "an integer >= 0, or null for automatic"),
    "num_threads": (lambda v: v is None or v >= 1, "an integer >= 1, or null for automatic"),
    "metrics.mode": (lambda v: v in METRIC_MODES, f"one of {', '.join(METRIC_MODES)}"),
    "metrics.num_thresholds": (lambda v: v >= 2, "an integer >= 2"),
    "metrics.fpr_limit": (lambda v: 0.0 < v <= 1.0, "a number in (0, 1]"),
    "metrics.max_exact_gb": (lambda v: v is None or v > 0, "a number of GB > 0, or null for no cap"),
    "threshold.method": (lambda v: v in THRESHOLD_METHODS, f"one of {', '.join(THRESHOLD_METHODS)}"),
    "threshold.value": (lambda v: 0.0 <= v <= 1.0, "a number in [0, 1]"),
    "threshold.alpha": (lambda v: 0.0 < v < 1.0, "a false-alarm rate in (0, 1), e.g. 0.01"),
    "threshold.num_calibration": (lambda v: v >= 1, "an integer >= 1"),
    "threshold.validation_split": (lambda v: 0.0 < v < 1.0, "a fraction of the test set in (0, 1)"),
    "dataset.mask_threshold": (lambda v: v is None or 0.0 <= v < 1.0, "a number in [0, 1), or null for > 0"),
    "predict.threshold": (
        lambda v: v is None or 0.0 <= v <= 1.0,
        "a number in [0, 1], or null for the calibrated threshold (else 0.5)",
    ),
    "predict.backend": (
        lambda v: v in ("torch", "onnxruntime", "openvino"),
        "one of torch, onnxruntime, openvino",
    ),
    "predict.split": (
        lambda v: (
            v is None
            or (isinstance(v, str) and v.strip() != "")
            or (OmegaConf.is_list(v) and len(v) > 0 and all(isinstance(s, str) and s.strip() for s in v))
        ),
        "a split name of the dataset (e.g. test_private with dataset=mvtec_ad2), a list of them "
        "([test_private,test_private_mixed]), or null for predict.input_dir",
    ),
    "export.format": (lambda v: v in ("onnx", "openvino"), "one of onnx, openvino"),
    "export.opset": (
        lambda v: v is None or v in OPSETS,
        f"an integer from {OPSETS[0]} to {OPSETS[-1]}, or null for {DEFAULT_OPSET}",
    ),
    "dashboard.num_images": (lambda v: v >= 0, "an integer >= 0"),
    "dashboard.max_curve_points": (lambda v: v >= 2, "an integer >= 2"),
}
"""Allowed values of the run's own keys (the model's options check themselves)."""


def model_options(cfg: DictConfig) -> dict[str, Any]:
    """Keyword options of :class:`~winclip_lit.WinCLIP` read from their config groups."""
    options: dict[str, Any] = {}
    for spec in option_specs():
        if spec.group == "backbone":
            continue
        node = cfg.get(spec.group)
        if node is None or spec.name not in node:
            continue
        value = node[spec.name]
        options[spec.name] = OmegaConf.to_container(value) if OmegaConf.is_config(value) else value
    return options


def check_options(cfg: DictConfig) -> WinCLIPOptions:
    """The model options of ``cfg``, or a :class:`ConfigError` naming the config key at fault."""
    try:
        return WinCLIPOptions.from_mapping(model_options(cfg))
    except InvalidOptionError as error:
        spec = next(s for s in option_specs() if s.name == error.option and s.group != "backbone")
        raise ConfigError(f"{spec.config_key}={_show(error.value)}: {error.rule}") from None


def _show(value: Any) -> str:
    return str(value).replace("'", "") if isinstance(value, list) else str(value)


def check_window_grid(model_name: str, scales: list[int]) -> None:
    """Refuse window sizes larger than the backbone's patch grid, before any weights are loaded.

    Args:
        model_name: ``backbone.model_name``.
        scales: ``window.scales``.
    """
    from winclip_lit.model.backbones import patch_grid

    grid = patch_grid(str(model_name))
    if grid is None:
        return
    too_large = [s for s in scales if s > min(grid)]
    if too_large:
        raise ConfigError(
            f"window.scales={_show(list(scales))}: window size {too_large[0]} is larger than the "
            f"patch grid of {model_name} ({grid[0]}x{grid[1]} patches); use sizes up to {min(grid)}"
        )


def check_calibration(threshold: DictConfig | None) -> None:
    """Refuse ``threshold=conformal`` with too few calibration images for its alpha, before any model loads."""
    if threshold is None or threshold.get("method") != "conformal":
        return
    from winclip_lit.metrics.thresholds import conformal_rank

    conformal_rank(int(threshold.num_calibration), float(threshold.alpha))


def check_predict_split(predict: DictConfig | None) -> None:
    """Refuse ``predict.split`` together with ``predict.input_dir`` or an exported backend (one source each)."""
    if predict is None or predict.get("split") is None:
        return
    if predict.get("input_dir"):
        raise ConfigError(
            f"predict.split={predict.split} and predict.input_dir={predict.input_dir} both choose the images; "
            "give one of them"
        )
    if predict.get("backend", "torch") != "torch":
        raise ConfigError(
            f"predict.split={predict.split} writes a submission with predict.backend=torch only; "
            f"drop predict.backend={predict.backend}"
        )


def validate(cfg: DictConfig, model: bool = True) -> WinCLIPOptions | None:
    """Check every value of a composed run config; raise :class:`ConfigError` with one line on the first bad one.

    Args:
        cfg: The composed config.
        model: Also check the model options and the window sizes against the backbone's grid.

    Returns:
        The checked model options (None when ``model`` is false).
    """
    for key, (ok, allowed) in _RULES.items():
        value = OmegaConf.select(cfg, key)
        if OmegaConf.select(cfg, key, default="__absent__") == "__absent__":
            continue
        if not ok(value):
            raise ConfigError(f"{key}={value}: {allowed}")
    check_calibration(cfg.get("threshold"))
    check_predict_split(cfg.get("predict"))
    if not model:
        return None
    options = check_options(cfg)
    check_window_grid(cfg.backbone.model_name, list(cfg.window.scales))
    return options
