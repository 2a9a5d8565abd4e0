"""The error type of bad configuration values, shared by the config and run layers."""

from __future__ import annotations


class ConfigError(ValueError):
    """A configuration value is missing, inconsistent or unusable; the message says how to fix it."""
