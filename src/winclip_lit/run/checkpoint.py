"""The train.py checkpoint: per category, the text embeddings and reference memory, with the config."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig, OmegaConf

from winclip_lit.run.errors import ConfigError

FORMAT = "winclip-lit/checkpoint-1"

MODEL_GROUPS = ("backbone", "window", "prompt", "model", "shot")
"""Config groups that define what a checkpoint holds; a checkpoint's values replace the CLI's."""


@dataclass
class Checkpoint:
    """What train.py saves and evaluate.py / predict.py restore.

    Attributes:
        config: The resolved config of the fit run.
        states: Per category, the model state from ``WinCLIP.export_state()``.
        references: Per category, the reference files (relative to the dataset root) it was built from.
    """

    config: dict[str, Any]
    states: dict[str, dict[str, Any]] = field(default_factory=dict)
    references: dict[str, list[str]] = field(default_factory=dict)

    def save(self, path: Path) -> Path:
        """Write the checkpoint (atomically) and return its path."""
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".part")
        torch.save(
            {"format": FORMAT, "config": self.config, "states": self.states, "references": self.references},
            partial,
        )
        partial.replace(path)
        return path

    @classmethod
    def load(cls, path: str | Path) -> Checkpoint:
        """Read a checkpoint written by ``save`` (tensors and plain data only)."""
        path = Path(path).expanduser()
        if not path.is_file():
            raise ConfigError(f"ckpt_path={path} does not exist; write one with `python train.py ...`")
        try:
            data = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as error:  # any unreadable file is the same user error
            raise ConfigError(f"ckpt_path={path} is not a winclip-lit checkpoint ({error})") from error
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ConfigError(f"ckpt_path={path} is not a winclip-lit checkpoint (format {FORMAT} expected)")
        return cls(data["config"], data["states"], data["references"])

    def state(self, category: str) -> dict[str, Any]:
        """The model state of ``category``."""
        if category not in self.states:
            raise ConfigError(
                f"the checkpoint has no category {category!r}; it has {', '.join(sorted(self.states))}"
            )
        return self.states[category]

    def check_features(self, fingerprint: str, path: str | Path) -> None:
        """Refuse states built with other image features than the model's (``feature_fingerprint()``)."""
        for category, state in self.states.items():
            if state.get("feature_fingerprint") != fingerprint:
                raise ConfigError(
                    f"ckpt_path={path}: category {category!r} was built with other image features (backbone, "
                    "weights, preprocessing, windows or precision) than this model; rebuild it with train.py"
                )

    def configure(self, cfg: DictConfig) -> tuple[DictConfig, list[str]]:
        """``cfg`` with the model-defining groups taken from the checkpoint.

        Returns:
            The merged config and the dotted keys whose CLI values the checkpoint replaced.
        """
        merged = OmegaConf.create(OmegaConf.to_container(cfg, resolve=True))
        replaced: list[str] = []
        for group in MODEL_GROUPS:
            if group not in self.config:
                continue
            saved = OmegaConf.create(self.config[group])
            if OmegaConf.to_container(merged[group]) != OmegaConf.to_container(saved):
                replaced.append(group)
            merged[group] = saved
        return merged, replaced
