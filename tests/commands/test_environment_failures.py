"""Failures of the machine (read-only or full file systems) through the real command: one line naming the
file and what to do, finished categories kept, and the run continues with ``resume=true``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from command_support import can_mount, error_lines, winclip_lit

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not can_mount(), reason="needs root and `unshare -m` to mount a small tmpfs"),
]


def _in_namespace(script: str) -> tuple[str, ...]:
    return ("unshare", "-m", "sh", "-c", script, "sh")


def test_a_read_only_output_folder_is_one_line(tmp_path: Path, mvtec: list[str]) -> None:
    mount = tmp_path / "ro"
    mount.mkdir()
    script = f'mount -t tmpfs -o ro,size=64k tmpfs {mount} && exec "$@"'
    for where in ([f"hydra.run.dir={mount / 'run'}"], []):
        env = {} if where else {"WINCLIP_OUTPUT": str(mount)}
        result = winclip_lit(tmp_path, "evaluate", *mvtec, *where, env=env, prefix=_in_namespace(script))
        assert result.returncode == 2
        lines = error_lines(result)
        assert len(lines) == 1 and "Read-only file system" in lines[0], result.stderr
        assert "looks like a bug" not in result.stderr


def test_a_full_disk_keeps_finished_categories_and_resume_finishes(tmp_path: Path, mvtec: list[str]) -> None:
    mount = tmp_path / "small"
    mount.mkdir()
    run = mount / "run"
    # 48 kB: Hydra's files and the first category's results line fit, its figures (~50 kB) do not;
    # then the same namespace "frees space" (a larger tmpfs size) and resumes.
    script = (
        f"mount -t tmpfs -o size=48k tmpfs {mount} && "
        '"$@"; echo "exit=$?"; cat ' + f"{run}/metrics.partial.jsonl; echo; "
        f"mount -o remount,size=64m {mount} && "
        '"$@" resume=true; echo "resumed=$?"; ' + f"cat {run}/metrics.json"
    )
    result = winclip_lit(tmp_path, "evaluate", *mvtec, f"hydra.run.dir={run}", prefix=_in_namespace(script))
    out = result.stdout
    assert "exit=2" in out, result.stdout + result.stderr
    first_error = [line for line in error_lines(result) if "error:" in line][0]
    assert "No space left on device" in first_error and "resume=true hydra.run.dir=" in first_error
    assert "cannot write " + str(run) in first_error
    assert "looks like a bug" not in result.stderr and "Traceback" not in result.stderr
    kept = out.split("exit=2", 1)[1].split("resumed=", 1)[0]
    assert '"category": "bottle"' in kept  # the finished category was kept
    assert "resumed=0" in out, result.stderr
    metrics = json.loads(out.split("resumed=0", 1)[1])
    assert set(metrics["categories"]) == {"bottle", "metal_nut"}
    assert "bottle: " in result.stderr and "(resumed from metrics.partial.jsonl)" in result.stderr
