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

RESULT_FILES = (
    "metrics.json",
    "metrics.partial.jsonl",
    "checkpoint.pt",
    "scores.csv",
    "skipped.txt",
    "report.md",
    "FAILED",
)
"""Files whose presence means a folder holds results."""

RESULT_PATTERNS = ("*.onnx", "*.xml", "overlays", "figures", "scores")
"""Further names (globs) that mean a folder holds results: exported graphs, overlays, figures."""

FAILED_FILE = "FAILED"
"""Written into a sweep job's folder when the job fails (first line: the error)."""

RESUMABLE_TASKS = ("evaluate",)
"""Tasks that ``resume=true`` continues (their finished categories are skipped)."""


class RunRefused(BaseException):
    """The output folder guard refused a run: carries the one-line :class:`ConfigError`.

    A ``BaseException`` on purpose: Hydra 1.3 turns every ``Exception`` raised in a callback into a
    warning (``Callbacks._notify``), so a refusal raised as an ``Exception`` would never stop the run.
    The command (``winclip_lit.cli.main``) prints the error as one line and exits with status 2.
    """

    def __init__(self, error: ConfigError) -> None:
        super().__init__(str(error))
        self.error = error


class SweepFailed(BaseException):
    """Raised at the end of a sweep some of whose jobs failed (a ``BaseException`` for the reason above).

    Attributes:
        jobs: The failed jobs' folders, sorted.
    """

    def __init__(self, jobs: list[Path]) -> None:
        super().__init__(f"{len(jobs)} job(s) failed")
        self.jobs = jobs


def _held(folder: Path) -> list[str]:
    names = [name for name in RESULT_FILES if (folder / name).exists()]
    return names + sorted(p.name for pattern in RESULT_PATTERNS for p in folder.glob(pattern))


def results_in(folder: Path) -> list[str]:
    """Names of result files in ``folder`` (also one level down, for sweep folders)."""
    if not folder.is_dir():
        return []
    found = _held(folder)
    for child in sorted(p for p in folder.iterdir() if p.is_dir() and p.name not in RESULT_PATTERNS):
        found += [f"{child.name}/{name}" for name in _held(child)]
    return found


def _where(key: str) -> str:
    env = os.environ.get("WINCLIP_OUTPUT")
    return f"WINCLIP_OUTPUT (now {env})" if env else f"WINCLIP_OUTPUT or {key}"


def claim_folder(path: Path, key: str = "hydra.run.dir") -> Path:
    """Create ``path`` (or the first free ``path_1``, ``path_2``, ...) atomically and return it."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ConfigError(
            f"{key}={path}: cannot create {path.parent} ({error.strerror or error}); set {_where(key)} "
            "to a writable folder"
        ) from None
    candidate, n = path, 0
    while True:
        try:
            candidate.mkdir()
            return candidate
        except FileExistsError:
            n += 1
            candidate = path.with_name(f"{path.name}_{n}")
        except OSError as error:
            raise ConfigError(
                f"{key}={candidate} cannot be created ({error.strerror or error}); set "
                f"{_where(key)} to a writable folder"
            ) from None


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


def check_resume(config: DictConfig, key: str) -> None:
    """``resume=true`` only continues an evaluation, in the folder the user names."""
    if not config.get("resume", False):
        return
    task = str(config.hydra.job.name)
    if task not in RESUMABLE_TASKS:
        raise ConfigError(
            f"resume=true continues an evaluate run only; `winclip-lit {task}` always starts a new folder: "
            "drop resume=true"
        )
    if not _explicit(config, key):
        raise ConfigError(
            f"resume=true needs the folder to continue: pass {key}=<the folder of the interrupted run>"
        )


def guard_folder(config: DictConfig, key: str) -> Path:
    """Claim or check the output folder named by ``key`` (``hydra.run.dir`` or ``hydra.sweep.dir``).

    Raises:
        ConfigError: The folder holds results (and this is no resumed evaluation), ``resume=true`` is
            misused, or the folder cannot be written.
    """
    mode = key.split(".")[1]
    folder = Path(str(config.hydra[mode].dir))
    check_resume(config, key)
    if _explicit(config, key):
        if folder.exists() and not folder.is_dir():
            raise ConfigError(f"{key}={folder} is a file, not a folder; choose a folder")
        held = results_in(folder)
        if held and not config.get("resume", False):
            hint = (
                "pass resume=true to continue its evaluation"
                if mode == "run"
                else "pass resume=true to continue its evaluations"
            )
            raise ConfigError(
                f"{key}={folder} already holds results ({', '.join(held[:3])}); choose a new folder, "
                f"delete this one, or {hint}"
            )
    else:
        folder = claim_folder(folder, key)
        _set_dir(config, key, folder)
    ensure_writable(folder, key)
    return folder


def _refusing(check: Any) -> Any:
    """Run a guard check; its :class:`ConfigError` becomes :class:`RunRefused` (which Hydra lets through)."""
    try:
        return check()
    except ConfigError as error:
        raise RunRefused(error) from None


def record_failure(output_dir: Path, error: BaseException, trace: str) -> None:
    """Leave ``FAILED`` (the error, then its traceback) in a failed sweep job's folder."""
    with contextlib.suppress(OSError):  # the job's own console line still names it
        (output_dir / FAILED_FILE).write_text(f"{type(error).__name__}: {error}\n\n{trace}")


def failure_markers(sweep: Path) -> dict[Path, int]:
    """``FAILED`` files of a sweep folder's jobs -> their modification time (ns)."""
    if not sweep.is_dir():
        return {}
    return {p: p.stat().st_mtime_ns for p in sweep.glob(f"*/{FAILED_FILE}")}


class OutputFolderGuard(Callback):
    """Hydra callback (``hydra.callbacks.outputs``) that applies the rules of this module.

    Its refusals are raised as :class:`RunRefused`, before Hydra writes anything into the folder.
    """

    def __init__(self) -> None:
        self._markers_before: dict[Path, int] = {}

    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        _refusing(lambda: guard_folder(config, "hydra.run.dir"))

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        sweep = _refusing(lambda: guard_folder(config, "hydra.sweep.dir"))
        self._markers_before = failure_markers(sweep)

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        """Raise :class:`SweepFailed` naming the jobs of this sweep that failed (each left ``FAILED``)."""
        now = failure_markers(Path(str(config.hydra.sweep.dir)))
        failed = sorted({p.parent for p, mtime in now.items() if self._markers_before.get(p) != mtime})
        if failed:
            raise SweepFailed(failed)
