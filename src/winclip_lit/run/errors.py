"""Errors that come from what the user asked for, reported as one line instead of a traceback."""

from __future__ import annotations

from winclip_lit.config.errors import ConfigError

__all__ = ["ConfigError", "PartialResultError", "user_errors"]


class PartialResultError(ConfigError):
    """Some inputs were skipped (e.g. unreadable images); the results of the others were written."""


def user_errors() -> tuple[type[BaseException], ...]:
    """Exception types caused by user input (config, CLI, data, weights) rather than by a bug."""
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    from winclip_lit.data.errors import DatasetError
    from winclip_lit.model.errors import WinCLIPError

    errors: tuple[type[BaseException], ...] = (
        ConfigError,
        DatasetError,
        WinCLIPError,
        HydraException,
        OmegaConfBaseException,
    )
    try:  # e.g. trainer=gpu on a machine without one; only when Lightning is already in use
        import sys

        if "lightning" in sys.modules:
            from lightning.fabric.utilities.exceptions import MisconfigurationException

            errors += (MisconfigurationException,)
    except ImportError:  # pragma: no cover - Lightning is a dependency
        pass
    return errors
