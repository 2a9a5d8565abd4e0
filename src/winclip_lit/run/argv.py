"""Command-line arguments as Hydra overrides: W&B sweep agents pass ``--key=value``; Hydra wants ``key=value``.

Examples:
    >>> hydra_overrides(["--shot=1", "--model.temperature=0.01", "seed=2", "-m"])
    ['shot=1', 'model.temperature=0.01', 'seed=2', '-m']
"""

from __future__ import annotations

from collections.abc import Sequence

HYDRA_FLAGS = (
    "--multirun",
    "--help",
    "--hydra-help",
    "--version",
    "--cfg",
    "--resolve",
    "--package",
    "--run",
    "--info",
    "--shell-completion",
    "--config-path",
    "--config-name",
    "--config-dir",
    "--experimental-rerun",
)
"""Hydra's own long options, passed through as they are."""


def hydra_overrides(argv: Sequence[str]) -> list[str]:
    """``--key=value`` (a W&B agent's default argument style) -> ``key=value``; everything else unchanged."""
    out = []
    for arg in argv:
        if arg.startswith("--") and "=" in arg and not arg.startswith(HYDRA_FLAGS):
            arg = arg[2:]
        out.append(arg)
    return out
