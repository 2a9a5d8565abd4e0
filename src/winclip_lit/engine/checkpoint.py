"""The train.py checkpoint: per category the text embeddings (with the prompts they come from) and the
reference memory, with the feature fingerprint and the config they were built with.

Evaluating or predicting with ``ckpt_path``:

- *feature* options (backbone, weights, windows, stride, patch features, precision) and the reference
  draw (``shot.k``, ``seed``) come from the checkpoint; giving a different value on the command line is a
  one-line error, because the saved memory was built with the checkpoint's.
- *score* options (prompts, temperature, few-shot weight, smoothing, class names) come from the
  checkpoint unless given on the command line; given ones apply exactly as in a direct run (text
  embeddings are re-encoded when the prompts differ from the saved ones).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from winclip_lit.config.errors import ConfigError
from winclip_lit.config.keys import (
    DECISION_KEYS,
    REFERENCE_KEYS,
    feature_keys,
    flatten,
    override_key,
    score_keys,
)
from winclip_lit.files import atomic_open
from winclip_lit.messages import one_line

FORMAT = "winclip-lit/checkpoint-3"
READABLE_FORMATS = (FORMAT, "winclip-lit/checkpoint-2", "winclip-lit/checkpoint-1")
PRESET_GROUPS = ("experiment", "reading", "hparams_search")
"""Groups whose options set keys all over the config: choosing one counts as giving every key."""


def explicit_keys(overrides: Iterable[str]) -> Callable[[str], bool]:
    """A test of whether a dotted key was given on the command line (by key, by its group or by a preset)."""
    given = [override_key(o) for o in overrides if "=" in o]
    if any(key in PRESET_GROUPS for key in given):
        return lambda key: True
    return lambda key: any(key == g or key.startswith(g + ".") for g in given)


@dataclass
class Checkpoint:
    """What train.py saves and evaluate.py / predict.py / export restore.

    Attributes:
        config: The resolved config of the train run.
        states: Per category, ``WinCLIP.category_state.state_dict()``.
        references: Per category, the reference files (relative to the dataset root) it was built from.
        thresholds: Per category, the calibrated decision thresholds (``engine.calibration``), if any.
    """

    config: dict[str, Any]
    states: dict[str, dict[str, Any]] = field(default_factory=dict)
    references: dict[str, list[str]] = field(default_factory=dict)
    path: Path | None = None
    thresholds: dict[str, dict[str, Any]] = field(default_factory=dict)

    def save(self, path: Path) -> Path:
        """Write the checkpoint atomically and return its path."""
        import torch

        payload = {
            "format": FORMAT,
            "config": self.config,
            "states": self.states,
            "references": self.references,
            "thresholds": self.thresholds,
        }
        with atomic_open(path, "wb") as handle:
            torch.save(payload, handle)
        return path

    @classmethod
    def load(cls, path: str | Path) -> Checkpoint:
        """Read a checkpoint written by ``save`` (tensors and plain data only); older formats are converted."""
        import torch

        from winclip_lit.model.category_state import convert_legacy_state, is_legacy_state

        path = Path(path).expanduser()
        if not path.is_file():
            raise ConfigError(f"ckpt_path={path} does not exist; write one with `winclip-lit train ...`")
        try:
            data = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as error:  # any unreadable file is the same user error
            reason = one_line(error, limit=200)
            raise ConfigError(f"ckpt_path={path} is not a winclip-lit checkpoint ({reason})") from None
        if not isinstance(data, dict) or data.get("format") not in READABLE_FORMATS:
            raise ConfigError(f"ckpt_path={path} is not a winclip-lit checkpoint (format {FORMAT} expected)")
        config = dict(data["config"])
        if data["format"] != FORMAT and "seed" not in config:  # version 1 kept the seed in `shot`
            config["seed"] = dict(config.get("shot", {})).pop("seed", 0)
        states = {
            name: convert_legacy_state(s) if is_legacy_state(s) else s for name, s in data["states"].items()
        }
        return cls(config, states, data["references"], path, dict(data.get("thresholds") or {}))

    def state(self, category: str) -> dict[str, Any]:
        """The model state of ``category``."""
        if category not in self.states:
            raise ConfigError(
                f"the checkpoint has no category {category!r}; it has {', '.join(sorted(self.states))}"
            )
        return self.states[category]

    def check_features(self, fingerprint: str) -> None:
        """Refuse states built with other image features than the model's (``feature_fingerprint()``)."""
        for category, state in self.states.items():
            if state["_extra_state"].get("feature_fingerprint") != fingerprint:
                raise ConfigError(
                    f"ckpt_path={self.path}: category {category!r} was built with other image features "
                    "(backbone weights or preprocessing) than this model; rebuild it with train.py"
                )

    def configure(self, cfg: DictConfig, overrides: Iterable[str]) -> tuple[DictConfig, list[str]]:
        """``cfg`` with the checkpoint's options, except score and threshold options given on the command line.

        Args:
            cfg: The composed run config.
            overrides: The run's command-line overrides (what the user gave explicitly).

        Returns:
            The merged config and the dotted keys whose values came from the checkpoint.

        Raises:
            ConfigError: A feature or reference key given with a value other than the checkpoint's.
        """
        merged = OmegaConf.create(OmegaConf.to_container(cfg, resolve=True))
        saved = flatten(self.config)
        explicit = explicit_keys(overrides)
        fixed = [*feature_keys(), *REFERENCE_KEYS]  # the state was built with them
        adopted, conflicts = [], []
        for key in [*fixed, *score_keys(), *DECISION_KEYS]:
            if key not in saved:
                continue
            current = OmegaConf.select(merged, key)
            current = OmegaConf.to_container(current) if OmegaConf.is_config(current) else current
            if current == saved[key]:
                continue
            if not explicit(key):
                OmegaConf.update(merged, key, saved[key], force_add=True)
                adopted.append(key)
            elif key in fixed:
                conflicts.append(f"{key}={current} (the checkpoint has {saved[key]})")
        if conflicts:
            raise ConfigError(
                f"ckpt_path={self.path}: {conflicts[0]}; its reference memory and text embeddings were built "
                "with the checkpoint's value: drop the override or rebuild the checkpoint with train.py"
            )
        return merged, adopted


def with_checkpoint(cfg: DictConfig, run: Any) -> tuple[DictConfig, Checkpoint | None]:
    """``cfg`` with the options of ``cfg.ckpt_path`` (if any) and the loaded checkpoint (None without one).

    Args:
        cfg: The composed run config.
        run: The run's :class:`~winclip_lit.engine.context.RunContext` (its overrides say what was given).
    """
    from winclip_lit.engine.context import console, process_rank

    if not cfg.get("ckpt_path"):
        return cfg, None
    checkpoint = Checkpoint.load(cfg.ckpt_path)
    merged, adopted = checkpoint.configure(cfg, run.overrides)
    if adopted and process_rank() == 0:
        console.print(f"checkpoint {cfg.ckpt_path}: using its {', '.join(adopted)}")
    return merged, checkpoint
