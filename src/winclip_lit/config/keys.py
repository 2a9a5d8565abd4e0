"""Which config keys define a result: one table giving every key of the configs an explicit role.

Roles (the model's options keep theirs from :data:`~winclip_lit.model.options.OPTION_SPECS`):

- ``data``: which images and masks are evaluated (``dataset.root``, the categories, the split).
- ``feature``: the image features (backbone, weights, windows, precision, ...); a checkpoint or cache
  entry is only valid for the same values.
- ``score``: the scores, given the features (prompts, temperature, few-shot weight, ...).
- ``reference``: the reference draw (``shot.k``, ``seed``).
- ``model``: a saved model whose stored memory and text embeddings the run uses (``ckpt_path``).
- ``metric``: how scores become metrics (``metrics.mode``, ``metrics.fpr_limit``, ...).
- ``runtime``: changes nothing in the results (speed, devices, logging, figures, where outputs go).

Every role but ``runtime`` defines results: such keys enter job folder names, W&B run names, the
``report`` grouping of sweep jobs and ``resume=true``'s check that a folder holds the same config. A key
the table does not know (a key of a user's own config group) counts as result-defining.

Examples:
    >>> role_of("dataset.root"), role_of("dashboard.figures"), role_of("model.temperature")
    ('data', 'runtime', 'score')
    >>> run_name(["shot=1", "seed=2", "logger=csv", "model.max_tokens=4096", "dashboard.figures=false"])
    'seed=2,shot=1'
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from typing import Any

from winclip_lit.model.options import FEATURE, RUNTIME, SCORE, option_specs

DATA = "data"
REFERENCE = "reference"
MODEL = "model"
METRIC = "metric"
PRESET = "preset"
"""Role of the preset groups (``experiment``, ``reading``): choosing one sets keys of every role."""

RESULT_ROLES = (DATA, FEATURE, SCORE, REFERENCE, MODEL, METRIC)
"""Roles whose keys define results."""
ROLES = (*RESULT_ROLES, RUNTIME)

SEED_KEY = "seed"
"""Seed of the reference draw: runs that differ only in it are repeats of one setting."""

RUN_KEY_ROLES: dict[str, str] = {
    # The dataset: which images, masks and split (each dataset config's keys; docs/data.md).
    "dataset._target_": DATA,
    "dataset.name": DATA,
    "dataset.root": DATA,
    "dataset.normal_dir": DATA,
    "dataset.abnormal_dirs": DATA,
    "dataset.mask_dir": DATA,
    "dataset.category": DATA,
    "dataset.categories": DATA,
    "dataset.reference_split": DATA,
    "dataset.split_seed": DATA,
    "dataset.eval_size": DATA,
    "dataset.mask_threshold": DATA,
    "dataset.resolution": DATA,  # Real-IAD's image size folder
    "dataset.json_variant": DATA,  # Real-IAD's split lists
    "dataset.download": RUNTIME,  # fetches the same files into dataset.root
    # Decision thresholds (docs/thresholds.md): they define the reported rates, not the scores.
    "threshold.method": METRIC,
    "threshold.value": METRIC,
    "threshold.alpha": METRIC,
    "threshold.num_calibration": METRIC,
    "threshold.validation_split": DATA,  # held out of the test set under threshold=f1
    # The reference draw.
    "shot.k": REFERENCE,
    SEED_KEY: REFERENCE,
    # Seeds random-init backbones (tiny_random), hence their weights; pretrained weights ignore it.
    "torch_seed": FEATURE,
    "ckpt_path": MODEL,
    "metrics.mode": METRIC,
    "metrics.num_thresholds": METRIC,
    "metrics.fpr_limit": METRIC,
    "metrics.max_exact_gb": METRIC,  # beyond it the exact metrics switch to binned ones
    "predict.input_dir": DATA,
    "predict.category": SCORE,  # whose class name / checkpoint entry scores the images
    "predict.threshold": SCORE,  # which images predict flags
    "predict.backend": RUNTIME,  # the same graph in another runtime
    "predict.model": MODEL,
    "predict.split": DATA,  # the dataset split scored into a benchmark submission
    "export.format": RUNTIME,
    "export.int8": FEATURE,  # int8 weights of the image tower
    "export.opset": RUNTIME,
    "export.categories": DATA,
    "loader.batch_size": RUNTIME,
    "loader.num_workers": RUNTIME,
    "loader.pin_memory": RUNTIME,
    "cache.enabled": RUNTIME,
    "cache.dir": RUNTIME,
    "dashboard.num_images": RUNTIME,
    "dashboard.max_curve_points": RUNTIME,
    "dashboard.figures": RUNTIME,
    "num_threads": RUNTIME,
    "resume": RUNTIME,
    "optimized_metric": RUNTIME,  # what a search maximises, not what a run computes
    # report.yaml
    "dir": RUNTIME,
    "output_dir": RUNTIME,
    "figures": RUNTIME,
}
"""Role of every config key outside the model's options."""

FREE_FORM_GROUPS = ("trainer", "logger", "hydra", "dashboard.panels")
"""Groups whose keys are free-form (Lightning Trainer arguments, logger configs, Hydra's settings, the
dashboard's panels): every key in them is ``runtime`` (the model's precision is ``model.precision``, not
the trainer's)."""

GROUP_ROLES: dict[str, str] = {
    "experiment": PRESET,
    "reading": PRESET,
    "hparams_search": RUNTIME,
    "suite": RUNTIME,  # which datasets a suite experiment sweeps (hydra.sweeper.params only)
}
"""Config groups that set keys at the top level (``group=option`` overrides only)."""

USER_GROUP_ROLES: dict[str, str] = {"dataset": DATA}
"""Role of keys that a user's own config adds to an open group (``+dataset.my_option=...``)."""


def _option_roles() -> dict[str, str]:
    return {spec.config_key: spec.role for spec in option_specs()}


def key_roles() -> dict[str, str]:
    """Every declared key -> its role: the model's options (their own roles) and :data:`RUN_KEY_ROLES`."""
    options = _option_roles()
    clash = sorted(set(options) & set(RUN_KEY_ROLES))
    if clash:  # one source of truth per key
        raise RuntimeError(f"keys with two roles: {clash}")
    return options | RUN_KEY_ROLES


KEY_ROLES = key_roles()


def keys_with_role(*roles: str) -> list[str]:
    """Declared keys of the given roles, in table order."""
    return [key for key, role in KEY_ROLES.items() if role in roles]


def feature_keys() -> list[str]:
    """Dotted keys of the model options that define the image features (backbone, weights, windows, ...)."""
    return [spec.config_key for spec in option_specs(FEATURE)]


def score_keys() -> list[str]:
    """Dotted keys of the model options that define the scores given the features (prompts, ...)."""
    return [spec.config_key for spec in option_specs(SCORE)]


REFERENCE_KEYS = tuple(keys_with_role(REFERENCE))
"""Keys that choose the reference images (with the dataset); fixed by a checkpoint."""

DECISION_KEYS = tuple(key for key in KEY_ROLES if key.startswith("threshold."))
"""Keys of the decision thresholds: a checkpoint's are adopted unless given (evaluate then reports the rates at
the thresholds the checkpoint stores, the ones predict applies)."""

LOCATION_KEYS = ("dataset.root", "dataset.normal_dir", "dataset.abnormal_dirs", "dataset.mask_dir")
"""Data keys that say where files live: a published benchmark is matched by ``dataset.name`` without them."""


def _within(key: str, prefix: str) -> bool:
    return key == prefix or key.startswith(prefix + ".")


def declared_role(key: str) -> str | None:
    """The role :data:`KEY_ROLES` gives a key or the nearest key above it (``dataset.class_name_map.x``)."""
    parts = key.split(".")
    for end in range(len(parts), 0, -1):
        role = KEY_ROLES.get(".".join(parts[:end]))
        if role is not None:
            return role
    return None


def roles_of(key: str) -> set[str]:
    """Roles of a dotted key, or of every key of a group (``window``, ``dataset``); empty when unknown."""
    key = key.replace("/", ".")
    declared = declared_role(key)
    if declared is not None:
        return {declared}
    if key in GROUP_ROLES:
        return {GROUP_ROLES[key]}
    for group in FREE_FORM_GROUPS:
        if _within(key, group):
            return {RUNTIME}
    roles = {role for k, role in KEY_ROLES.items() if _within(k, key)}
    roles |= {role for group, role in USER_GROUP_ROLES.items() if _within(key, group)}
    return roles


def role_of(key: str) -> str | None:
    """The role of one dotted key (None for a key no table declares)."""
    roles = roles_of(key)
    return roles.pop() if len(roles) == 1 else None


def defines_results(key: str) -> bool:
    """Whether a key (or a group choice) can change results; unknown keys count as result-defining."""
    return roles_of(key) != {RUNTIME}


def is_runtime(key: str) -> bool:
    """Whether a dotted key (or group) never changes a result."""
    return not defines_results(key)


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


def result_keys_of(flat: Mapping[str, Any]) -> dict[str, Any]:
    """The result-defining entries of a flat ``{dotted key: value}`` mapping (the seed included)."""
    return {k: v for k, v in flat.items() if defines_results(k)}


def setting_of(config: Mapping[str, Any]) -> dict[str, Any]:
    """The result-defining part of a run's config without the seed: runs with equal settings are repeats."""
    return {k: v for k, v in result_keys_of(flatten(config)).items() if k != SEED_KEY}


_UNSAFE = re.compile(r"['\"\[\] ]")
_NOT_NAME = re.compile(r"[^\w.,=+-]")
MAX_VALUE_CHARS = 32
"""Values longer than this (or holding a path) appear in job names as ``<last part>-<hash>``."""


def override_key(override: str) -> str:
    """The key (or group) of one command-line override: ``+model.x=1`` -> ``model.x``."""
    return override.split("=", 1)[0].lstrip("+~").split("@")[0]


def short_value(value: str) -> str:
    """A short, file-system safe form of an override's value, unique per value.

    Plain short values stay as they are (quotes, brackets and spaces dropped); a path or a long value
    becomes its last part and 8 hex digits of its hash: ``/data/a/mvtec`` -> ``mvtec-1f0c...``.
    """
    plain = _UNSAFE.sub("", value)
    if len(plain) <= MAX_VALUE_CHARS and not _NOT_NAME.search(plain):  # no path separator either
        return plain
    tail = [part for part in re.split(r"[/\\]", plain.rstrip("/\\")) if part][-1:] or ["value"]
    stem = _NOT_NAME.sub("_", tail[0])[:24]
    return f"{stem}-{hashlib.blake2b(value.encode(), digest_size=4).hexdigest()}"


def run_name(overrides: Iterable[str]) -> str:
    """A short, file-system friendly name of a job from its result-defining overrides.

    Used for sweep job folders and W&B run names, so both show what the jobs differ in; two different
    values of a key never give the same name.
    """
    kept = sorted(o.lstrip("+~") for o in overrides if "=" in o and defines_results(override_key(o)))
    parts = []
    for override in kept:
        key, value = override.split("=", 1)
        parts.append(f"{key.replace('/', '_')}={short_value(value)}")
    return ",".join(parts) or "default"
