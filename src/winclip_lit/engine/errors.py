"""Errors that come from what the user asked for, reported as one line instead of a traceback."""

from __future__ import annotations

import errno
from pathlib import Path

from winclip_lit.config.errors import ConfigError
from winclip_lit.messages import error_chain

__all__ = ["ConfigError", "PartialResultError", "environment_failure", "user_errors"]

ENVIRONMENT_ERRNOS = {
    errno.ENOSPC: "free some space",
    errno.EDQUOT: "free some space or raise the disk quota",
    errno.EFBIG: "write to another file system or raise the file size limit (ulimit -f)",
    errno.EROFS: "choose a folder on a writable file system (WINCLIP_OUTPUT or hydra.run.dir)",
    errno.EACCES: "fix the permissions or choose another folder (WINCLIP_OUTPUT or hydra.run.dir)",
    errno.EPERM: "fix the permissions or choose another folder (WINCLIP_OUTPUT or hydra.run.dir)",
    errno.ENOTDIR: "a part of that path is a file, not a folder: move it or choose another folder",
}
"""Errors of the machine rather than of the code (errno -> what the user can do about it)."""


class PartialResultError(ConfigError):
    """Some inputs were skipped (e.g. unreadable images); the results of the others were written."""


def user_errors() -> tuple[type[BaseException], ...]:
    """Exception types caused by user input (config, CLI, data, weights) rather than by a bug.

    Called only once an exception is being handled, so its imports cost nothing on the normal path."""
    from hydra.errors import HydraException
    from lightning.fabric.utilities.exceptions import MisconfigurationException
    from omegaconf.errors import OmegaConfBaseException

    from winclip_lit.data.errors import DatasetError
    from winclip_lit.deploy.errors import DeployError
    from winclip_lit.model.errors import WinCLIPError

    return (
        ConfigError,
        DatasetError,
        DeployError,
        WinCLIPError,
        HydraException,
        OmegaConfBaseException,
        MisconfigurationException,  # e.g. trainer=gpu on a machine without one
    )


def environment_failure(error: BaseException, task: str, output_dir: Path) -> str | None:
    """One line for a file-system failure (no space, read-only, permission, not a folder), else None.

    The line names the file, the cause and what to do; an evaluation adds how to continue it, since its
    finished categories are kept in ``metrics.partial.jsonl``.
    """
    cause = next(
        (e for e in error_chain(error) if isinstance(e, OSError) and e.errno in ENVIRONMENT_ERRNOS), None
    )
    if cause is None:
        return None
    where = f"cannot write {cause.filename}" if cause.filename else "a file could not be written"
    then = (
        f", then continue with `winclip-lit evaluate resume=true hydra.run.dir={output_dir}` "
        "(finished categories are kept)"
        if task == "evaluate"
        else f", then run `winclip-lit {task}` again"
    )
    return f"{where}: {cause.strerror or cause}; {ENVIRONMENT_ERRNOS[cause.errno]}{then}"
