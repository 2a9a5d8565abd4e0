"""Output folders that never lose results: one folder per run, earlier results kept, failures listed.

- A run whose folder comes from the default pattern (``outputs/<job>/<date>_<time>``) claims it with an
  atomic ``mkdir``; when another run already holds that name (two runs started in the same second), it
  takes ``<name>_1``, ``<name>_2``, ...: every run gets a folder of its own.
- An explicit ``hydra.run.dir`` / ``hydra.sweep.dir`` that already holds results is refused with one line
  (choose another folder, delete it, or pass ``resume=true`` to continue an evaluation there).
- The folder must be writable before the run starts (a read-only folder fails with one line, not after
  an hour of evaluation).
- A sweep job that fails leaves a ``FAILED`` file with its error in its folder; the sweep goes on and ends
  with a summary of the failed jobs and a non-zero exit status.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, open_dict

from winclip_lit.config.errors import ConfigError

RESULT_FILES = ("metrics.json", "metrics.partial.jsonl", "checkpoint.pt", "scores.csv", "report.md")
"""Files whose presence means a folder holds results."""

FAILED_FILE = "FAILED"
"""Written into a sweep job's folder when the job fails (first line: the error)."""

failed_jobs: list[Path] = []
"""Failed jobs of the last sweep of this process (filled by :class:`OutputFolderGuard`)."""


def results_in(folder: Path) -> list[str]:
    """Names of result files in ``folder`` (also one level down, for sweep folders)."""
    if not folder.is_dir():
        return []
    found = [name for name in RESULT_FILES if (folder / name).exists()]
    for child in sorted(p for p in folder.iterdir() if p.is_dir()):
        found += [f"{child.name}/{name}" for name in RESULT_FILES if (child / name).exists()]
    return found


def claim_folder(path: Path) -> Path:
    """Create ``path`` (or the first free ``path_1``, ``path_2``, ...) atomically and return it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    candidate, n = path, 0
    while True:
        try:
            candidate.mkdir()
            return candidate
        except FileExistsError:
            n += 1
            candidate = path.with_name(f"{path.name}_{n}")


def ensure_writable(folder: Path, key: str) -> None:
    """Fail with one line unless files can be created in ``folder`` (and its results replaced)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".write-test-{os.getpid()}"
        probe.write_text("")
        probe.unlink()
    except OSError as error:
        raise ConfigError(
            f"{key}={folder} is not writable ({error.strerror or error}); choose a writable folder"
        ) from None
    for name in RESULT_FILES:
        if (folder / name).exists() and not os.access(folder / name, os.W_OK):
            raise ConfigError(f"{folder / name} is not writable; fix its permissions or choose another {key}")


def _explicit(config: DictConfig, key: str) -> bool:
    return any(str(o).split("=", 1)[0].lstrip("+~") == key for o in config.hydra.overrides.hydra)


def _set_dir(config: DictConfig, key: str, folder: Path) -> None:
    """Point ``hydra.<mode>.dir`` at ``folder`` here and in the overrides that sweep jobs are built from."""
    mode = key.split(".")[1]
    with open_dict(config):
        config.hydra[mode].dir = str(folder)
        config.hydra.overrides.hydra.append(f"{key}={folder}")


def guard_folder(config: DictConfig, key: str) -> Path:
    """Claim or check the output folder named by ``key`` (``hydra.run.dir`` or ``hydra.sweep.dir``)."""
    mode = key.split(".")[1]
    folder = Path(str(config.hydra[mode].dir))
    if _explicit(config, key):
        held = results_in(folder)
        if held and not config.get("resume", False):
            raise ConfigError(
                f"{key}={folder} already holds results ({', '.join(held[:3])}); choose a new folder, "
                "delete this one, or pass resume=true to continue its evaluation"
            )
    else:
        folder = claim_folder(folder)
        _set_dir(config, key, folder)
    ensure_writable(folder, key)
    return folder


def record_failure(output_dir: Path, error: BaseException, trace: str) -> None:
    """Leave ``FAILED`` (the error, then its traceback) in a failed sweep job's folder."""
    with contextlib.suppress(OSError):  # the summary still names the job from memory
        (output_dir / FAILED_FILE).write_text(f"{type(error).__name__}: {error}\n\n{trace}")
    failed_jobs.append(output_dir)


class OutputFolderGuard(Callback):
    """Hydra callback (``hydra.callbacks.outputs``) that applies the rules of this module."""

    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        guard_folder(config, "hydra.run.dir")

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        failed_jobs.clear()
        guard_folder(config, "hydra.sweep.dir")

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        sweep = Path(str(config.hydra.sweep.dir))
        found = {p.parent for p in sweep.glob(f"*/{FAILED_FILE}")} if sweep.is_dir() else set()
        failed_jobs[:] = sorted(set(failed_jobs) | found)
