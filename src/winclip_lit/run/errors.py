"""Errors that come from what the user asked for, reported as one line instead of a traceback."""

from __future__ import annotations

from winclip_lit.config.errors import ConfigError

__all__ = ["ConfigError", "PartialResultError", "user_errors"]


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
