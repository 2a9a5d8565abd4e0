"""What every Hydra entry point shares: CLI override fixes, output-dir naming, one-line errors."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from omegaconf import DictConfig, OmegaConf

CONFIG_DIR = str(Path(__file__).resolve().parents[1] / "conf")
"""The configs shipped inside the package (`conf/` at the repository top level links here)."""

NUMERIC_GROUPS = ("shot",)
"""Config groups whose options are numbers (`shot=1`); Hydra needs them as strings."""

_NUMBER = re.compile(r"^\d+$")


def quote_numeric_choices(args: list[str]) -> list[str]:
    """Quote numeric options of `NUMERIC_GROUPS` (`shot=0,1` -> `shot='0','1'`) so Hydra finds `shot/0.yaml`.

    Args:
        args: Command-line arguments (without the program name).

    Returns:
        The arguments with numeric group choices quoted; everything else unchanged.
    """
    out = []
    for arg in args:
        key, sep, value = arg.partition("=")
        if sep and key.lstrip("+~") in NUMERIC_GROUPS and value:
            parts = value.split(",")
            if all(_NUMBER.match(p) for p in parts):
                arg = key + "=" + ",".join(f"'{p}'" for p in parts)
        out.append(arg)
    return out


def dirname_for(overrides: str) -> str:
    """A file-system friendly job directory name from Hydra's `override_dirname`."""
    cleaned = re.sub(r"['\"\[\] ]", "", overrides).replace("/", "_")
    return cleaned or "default"


def register_resolvers() -> None:
    """Register the `winclip_dirname` resolver used by `hydra.sweep.subdir` (idempotent)."""
    if not OmegaConf.has_resolver("winclip_dirname"):
        OmegaConf.register_new_resolver("winclip_dirname", dirname_for)


def one_line(error: BaseException) -> str:
    """Collapse an error message to one line (Hydra's config-search-path listing dropped)."""
    message = str(error).split("Config search path")[0]
    message = " ".join(message.split())
    return message or type(error).__name__


_DEBUG_ENV = "WINCLIP_FULL_ERROR"


def _report(error: BaseException) -> NoReturn:
    """Print a user error as one line and exit with status 2 (or re-raise in debug mode)."""
    if os.environ.get(_DEBUG_ENV) == "1":
        raise error
    print(f"{Path(sys.argv[0]).name}: error: {one_line(error)}", file=sys.stderr)
    raise SystemExit(2)


def run_task(task: Callable[[DictConfig, Any], object], cfg: DictConfig) -> None:
    """Call ``task(cfg, hydra_context())`` inside a Hydra job, turning user errors into one line + exit 2.

    Raising SystemExit (not an Exception) keeps Hydra from adding its own "Error executing job" text.
    """
    from winclip_lit.run.context import hydra_context
    from winclip_lit.run.errors import user_errors

    try:
        task(cfg, hydra_context())
    except user_errors() as error:
        _report(error)


def run_entry_point(main: Callable[[], object]) -> None:
    """Run a `@hydra.main` function; config and CLI errors become one line and exit status 2.

    Hydra is made to raise composition errors (HYDRA_FULL_ERROR=1 internally) so they can be reported
    here in one line. Setting HYDRA_FULL_ERROR=1 yourself gives the full traceback of every error
    instead. Bugs (other exceptions) always keep their traceback.

    Args:
        main: The decorated Hydra main function.
    """
    from winclip_lit.run.errors import user_errors

    if os.environ.get("HYDRA_FULL_ERROR") == "1":
        os.environ[_DEBUG_ENV] = "1"
    os.environ["HYDRA_FULL_ERROR"] = "1"
    register_resolvers()
    sys.argv[1:] = quote_numeric_choices(sys.argv[1:])
    try:
        main()
    except user_errors() as error:
        _report(error)
