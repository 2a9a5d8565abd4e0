"""Which config keys define a result, derived from the one description of the model's options.

- *feature* keys (:func:`feature_keys`): the image features; a checkpoint or cache entry is only valid for
  the same values.
- *score* keys (:func:`score_keys`): the scores, given the features.
- *runtime* keys (:func:`is_runtime`): where data lives, speed, devices, logging. They never enter a job's
  folder name, a W&B run name or ``report.py``'s grouping of sweep jobs.

Examples:
    >>> is_runtime("loader.batch_size"), is_runtime("model.temperature")
    (True, False)
    >>> run_name(["shot=1", "seed=2", "logger=csv", "model.max_tokens=4096"])
    'seed=2,shot=1'
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from winclip_lit.model.options import FEATURE, RUNTIME, SCORE, option_specs

SEED_KEY = "seed"
"""Seed of the reference draw: runs that differ only in it are repeats of one setting."""

REFERENCE_KEYS = ("shot.k", SEED_KEY)
"""Keys that choose the reference images (with the dataset); fixed by a checkpoint."""

RUN_ONLY_KEYS = (
    "dataset.root",
    "dataset.normal_dir",
    "dataset.abnormal_dirs",
    "dataset.mask_dir",
    "dataset.download",
    "ckpt_path",
    "resume",
    "torch_seed",
    "num_threads",
    "optimized_metric",
    "loader",
    "trainer",
    "logger",
    "cache",
    "predict",
    "export",
    "hydra",
    "hparams_search",
)
"""Keys (or whole groups) outside the model that locate data, tune speed or choose logging."""


def feature_keys() -> list[str]:
    """Dotted keys of the options that define the image features (backbone, weights, windows, ...)."""
    return [spec.config_key for spec in option_specs(FEATURE)]


def score_keys() -> list[str]:
    """Dotted keys of the options that define the scores given the features (prompts, temperature, ...)."""
    return [spec.config_key for spec in option_specs(SCORE)]


def runtime_keys() -> list[str]:
    """Every runtime key: the model's runtime options and :data:`RUN_ONLY_KEYS`."""
    return [spec.config_key for spec in option_specs(RUNTIME)] + list(RUN_ONLY_KEYS)


def _within(key: str, prefix: str) -> bool:
    return key == prefix or key.startswith(prefix + ".")


def is_runtime(key: str) -> bool:
    """Whether a dotted key (or group name) never changes a result."""
    return any(_within(key, prefix) for prefix in runtime_keys())


def flatten(config: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Dotted keys -> leaf values (lists kept whole)."""
    flat: dict[str, Any] = {}
    for key, value in config.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, dotted + "."))
        else:
            flat[dotted] = value
    return flat


def setting_of(config: Mapping[str, Any]) -> dict[str, Any]:
    """The result-defining part of a run's config: every key but the seed and the runtime keys."""
    return {k: v for k, v in flatten(config).items() if k != SEED_KEY and not is_runtime(k)}


_UNSAFE = re.compile(r"['\"\[\] ]")


def override_key(override: str) -> str:
    """The key (or group) of one command-line override: ``+model.x=1`` -> ``model.x``."""
    return override.split("=", 1)[0].lstrip("+~").split("@")[0]


def run_name(overrides: Iterable[str]) -> str:
    """A short, file-system friendly name of a job from its overrides, without runtime keys.

    Used for sweep job folders and W&B run names, so both show what the jobs differ in.
    """
    kept = sorted(o for o in overrides if "=" in o and not is_runtime(override_key(o)))
    cleaned = _UNSAFE.sub("", ",".join(o.lstrip("+~") for o in kept)).replace("/", "_")
    return cleaned or "default"
