"""The environment of the real commands that tests run in subprocesses (importable from every test folder:
pytest puts ``tests/`` on ``sys.path`` for the root conftest)."""

from __future__ import annotations

import os
from pathlib import Path

DROPPED = ("HYDRA_FULL_ERROR", "WINCLIP_FULL_ERROR", "MLFLOW_TRACKING_URI")
"""Debugging switches (tests check the one-line errors) and MLFLOW_TRACKING_URI, which ``mlflow`` sets in the
test process whenever an in-process test opens a store; a command inheriting it would log to that store."""


def subprocess_env(tmp: Path, **extra: str) -> dict[str, str]:
    """A user's environment: W&B and the model hub offline, outputs and caches under ``tmp``, then ``extra``."""
    env = {k: v for k, v in os.environ.items() if k not in DROPPED}
    env.update(
        WANDB_MODE="disabled",
        WANDB_SILENT="true",
        HF_HUB_OFFLINE="1",
        WINCLIP_OUTPUT=str(tmp / "outputs"),
        WINCLIP_CACHE=str(tmp / "cache"),
    )
    env.update(extra)
    return env
