"""The ``winclip-lit`` command: ``winclip-lit evaluate|train|predict|report|export [overrides]``.

Also ``python -m winclip_lit ...`` and the repository's ``evaluate.py``/``train.py``/``predict.py``/
``report.py``/``export.py``, which call :func:`main` with their task. Overrides are Hydra's
(``shot=1 seed=2``, ``-m`` for sweeps); W&B sweep agents' ``--key=value`` arguments are accepted too.
Configs come from the package (``winclip_lit/conf``); add your own folders with
``hydra.searchpath=[file:///path/to/conf]`` or ``--config-dir /path/to/conf``.

User errors (config, data, weights) print one line and exit with status 2; bugs keep their traceback.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import hydra
from omegaconf import DictConfig

from winclip_lit.messages import one_line as base_one_line

TASKS: dict[str, tuple[str, str]] = {
    "evaluate": ("config", "winclip_lit.tasks.evaluate:evaluate"),
    "train": ("config", "winclip_lit.tasks.train:train"),
    "predict": ("config", "winclip_lit.tasks.predict:predict"),
    "report": ("report", "winclip_lit.tasks.report:report_task"),
    "export": ("config", "winclip_lit.tasks.export:export"),
}
"""Task name -> (primary config, the function that runs it)."""

USAGE = (
    "usage: winclip-lit {" + "|".join(TASKS) + "} [hydra overrides ...]\n"
    "  e.g. winclip-lit evaluate dataset.root=/data/mvtec_anomaly_detection shot=1 seed=0\n"
    "       winclip-lit evaluate --help   (every config group and key)"
)

_DEBUG_ENV = "WINCLIP_FULL_ERROR"


def one_line(error: BaseException) -> str:
    """Collapse an error message to one line (Hydra's config-search-path listing dropped)."""
    message = str(error).split("Config search path")[0]
    cause = error.__cause__
    if hasattr(cause, "full_key") and getattr(cause, "msg", None) and "full_key" not in message:
        message = f"{cause.full_key}: {cause.msg}"
    message = base_one_line(message)
    shot = re.search(r"Could not find 'shot/([^']+)'", message)
    if shot:
        message += f" (for {shot.group(1)} reference images per category pass shot.k={shot.group(1)})"
    return message or type(error).__name__


def _report_line(task: str, line: str, error: BaseException) -> NoReturn:
    """Print ``line`` as the error of ``task`` and exit with status 2 (or re-raise in debug mode)."""
    if os.environ.get(_DEBUG_ENV) == "1":
        raise error
    print(f"winclip-lit {task}: error: {line}", file=sys.stderr)
    raise SystemExit(2)


def _report(task: str, error: BaseException) -> NoReturn:
    """Print a user error of ``task`` as one line and exit with status 2 (or re-raise in debug mode)."""
    _report_line(task, one_line(error), error)


def unknown_task(name: str) -> str:
    """One line naming an unknown task and the closest known one."""
    import difflib

    close = difflib.get_close_matches(name, TASKS, n=1)
    hint = f"; did you mean `winclip-lit {close[0]}`?" if close else f"; use one of {', '.join(TASKS)}"
    return f"unknown task '{name}'{hint}"


def _task(name: str) -> Any:
    module, function = TASKS[name][1].split(":")
    return getattr(importlib.import_module(module), function)


def run_task(cfg: DictConfig) -> Any:
    """Run the current task inside its Hydra job: validate, run, and turn user errors into one line.

    In a sweep a failing job leaves ``FAILED`` in its folder and the sweep goes on (summary at the end).
    With ``optimized_metric`` set (hyper-parameter search) the job returns that metric of the mean.
    """
    from winclip_lit.config.validate import validate
    from winclip_lit.engine.context import console, hydra_context
    from winclip_lit.engine.errors import environment_failure, user_errors
    from winclip_lit.engine.imports import blocked_imports, unused_packages
    from winclip_lit.engine.outputs import record_failure

    run = hydra_context()
    task = run.job_name  # the command sets hydra.job.name to its task
    try:
        with blocked_imports(unused_packages(cfg)):
            if task != "report":
                validate(cfg)
            result = _task(task)(cfg, run)
    except Exception as error:
        environment = environment_failure(error, task, run.output_dir)
        if not run.multirun:
            if environment:
                _report_line(task, environment, error)
            if isinstance(error, user_errors()):
                _report(task, error)
            error.add_note("winclip-lit: this looks like a bug; please report it with this traceback")
            raise
        record_failure(run.output_dir, error, traceback.format_exc())
        line = environment or (
            one_line(error) if isinstance(error, user_errors()) else f"{type(error).__name__}: {error}"
        )
        console.print(f"job {run.output_dir.name} failed: {line} (details in {run.output_dir}/FAILED)")
        return float("nan") if cfg.get("optimized_metric") else None
    metric = cfg.get("optimized_metric")
    if metric and isinstance(result, dict):
        key = metric.removeprefix("mean/")
        value = (result.get("mean") or {}).get(key)
        if value is None:
            from winclip_lit.config.errors import ConfigError

            _report(
                task, ConfigError(f"optimized_metric={metric} is not a metric of this run; use mean/<metric>")
            )
        return float(value)
    return result


def _hydra_main(config_name: str) -> Any:
    from winclip_lit.config import CONFIG_DIR

    return hydra.main(config_path=CONFIG_DIR, config_name=config_name, version_base="1.3")(run_task)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry of the ``winclip-lit`` command (``argv``: the task, then overrides; default ``sys.argv[1:]``)."""
    from winclip_lit.cli.argv import hydra_overrides, split_flags
    from winclip_lit.config.hydra_setup import prepare_hydra
    from winclip_lit.engine.outputs import RunRefused, SweepFailed

    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(USAGE, file=sys.stderr)
        raise SystemExit(0 if args else 2)
    if args[0] not in TASKS:
        print(f"winclip-lit: error: {unknown_task(args[0])}", file=sys.stderr)
        print(USAGE, file=sys.stderr)
        raise SystemExit(2)
    task = args[0]
    if os.environ.get("HYDRA_FULL_ERROR") == "1":
        os.environ[_DEBUG_ENV] = "1"
    os.environ["HYDRA_FULL_ERROR"] = "1"  # Hydra raises; we print one line
    prepare_hydra()
    from winclip_lit.engine.errors import user_errors

    try:
        flags, overrides = split_flags(hydra_overrides(args[1:]))
        sys.argv = [f"winclip-lit {task}", *flags, *overrides, f"hydra.job.name={task}"]
        _hydra_main(TASKS[task][0])()
    except RunRefused as refused:  # raised before Hydra writes into the folder
        _report(task, refused.error)
    except SweepFailed as failed:  # the sweep went on; its end lists the failed jobs
        names = ", ".join(Path(p).name for p in failed.jobs)
        print(f"winclip-lit {task}: {len(failed.jobs)} job(s) failed: {names}", file=sys.stderr)
        raise SystemExit(1) from None
    except Exception as error:  # not SystemExit: --help exits without importing what user_errors() imports
        if isinstance(error, user_errors()):
            _report(task, error)
        raise


def script(task: str) -> None:
    """Entry of the repository's top-level scripts (``python evaluate.py ...``)."""
    main([task, *sys.argv[1:]])
