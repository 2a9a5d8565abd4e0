"""Helpers of the command-level tests: the installed ``winclip-lit`` console command, run in subprocesses."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from subprocess_env import subprocess_env

COMMAND = Path(sys.executable).with_name("winclip-lit")
"""The console script installed beside this interpreter (what a user types)."""

TINY = ("backbone=tiny_random", "logger=none", "loader.num_workers=0", "trainer.enable_progress_bar=false")
CATEGORIES = ("bottle", "metal_nut")


def command_env(tmp: Path, **extra: str) -> dict[str, str]:
    """A user's environment: W&B and the hub offline, outputs and caches under ``tmp``."""
    return subprocess_env(tmp, **extra)


def winclip_lit(tmp: Path, *args: str, env: dict[str, str] | None = None, prefix: tuple[str, ...] = ()):
    """Run ``winclip-lit *args`` (optionally behind ``prefix``, e.g. ``unshare``) and return the result."""
    if not COMMAND.exists():
        pytest.fail(f"{COMMAND} is missing: install the package (pip install -e .)")
    return subprocess.run(
        [*prefix, str(COMMAND), *args],
        cwd=tmp,
        env={**command_env(tmp), **(env or {})},
        capture_output=True,
        text=True,
        timeout=400,
    )


def error_lines(result: subprocess.CompletedProcess) -> list[str]:
    """The non-empty lines the command printed on stderr."""
    return [line for line in result.stderr.splitlines() if line.strip()]


def snapshot(folder: Path) -> dict[str, tuple[bytes, int, int]]:
    """Every file below ``folder`` -> (bytes, mode, mtime in ns): equal snapshots mean an untouched folder."""
    return {
        p.relative_to(folder).as_posix(): (p.read_bytes(), p.stat().st_mode, p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    } | {p.relative_to(folder).as_posix() + "/": (b"", 0, 0) for p in folder.rglob("*") if p.is_dir()}


def can_mount() -> bool:
    """Whether this process may mount a tmpfs in a private mount namespace (root with ``unshare``)."""
    if not shutil.which("unshare") or os.geteuid() != 0:
        return False
    probe = subprocess.run(
        ["unshare", "-m", "sh", "-c", "mount -t tmpfs -o size=16k tmpfs /mnt"], capture_output=True
    )
    return probe.returncode == 0
