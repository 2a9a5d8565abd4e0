"""One-line ValueErrors for bad metric inputs."""

from __future__ import annotations

import torch
from torch import Tensor

MODES = ("exact", "binned")


def check_mode(mode: str, num_thresholds: int) -> None:
    """Checks the mode switch and the number of binned thresholds."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if not isinstance(num_thresholds, int) or num_thresholds < 2:
        raise ValueError(f"num_thresholds must be an int >= 2, got {num_thresholds!r}")


def check_fpr_limit(fpr_limit: float) -> None:
    """Checks that the AUPRO integration limit lies in (0, 1]."""
    if not 0.0 < fpr_limit <= 1.0:
        raise ValueError(f"fpr_limit must lie in (0, 1], got {fpr_limit!r}")


def check_scores(scores: Tensor, name: str) -> None:
    """Checks that scores are a NaN-free float tensor."""
    if not isinstance(scores, Tensor) or not scores.is_floating_point():
        raise ValueError(f"{name} must be a float tensor, got {getattr(scores, 'dtype', type(scores))}")
    if torch.isnan(scores).any():
        raise ValueError(f"{name} contains NaN")


def check_binary(target: Tensor, name: str) -> None:
    """Checks that a label or mask tensor holds only 0 and 1."""
    if not isinstance(target, Tensor):
        raise ValueError(f"{name} must be a tensor, got {type(target)}")
    if target.dtype != torch.bool and ((target != 0) & (target != 1)).any():
        raise ValueError(f"{name} must be binary {{0, 1}}, got values {torch.unique(target)[:6].tolist()}")


def check_pair(scores: Tensor, target: Tensor, names: tuple[str, str], ndim: int | None) -> None:
    """Checks dtypes, values, dimensionality and matching shapes of a (scores, target) pair."""
    check_scores(scores, names[0])
    check_binary(target, names[1])
    expected = {1: "(B,)", 3: "(B, H, W)"}
    if ndim is not None and scores.ndim != ndim:
        raise ValueError(f"{names[0]} must have shape {expected[ndim]}, got {tuple(scores.shape)}")
    if scores.shape != target.shape:
        raise ValueError(
            f"{names[0]} shape {tuple(scores.shape)} does not match {names[1]} shape {tuple(target.shape)}"
        )


def check_max_exact_gb(max_exact_gb: object) -> None:
    """Raises unless ``max_exact_gb`` is None or a positive number."""
    if max_exact_gb is None:
        return
    if isinstance(max_exact_gb, bool) or not isinstance(max_exact_gb, (int, float)) or not max_exact_gb > 0:
        raise ValueError(
            f"max_exact_gb must be a positive number of GB or None (no cap), got {max_exact_gb!r}"
        )
