"""The single error type raised for bad dataset input."""

from __future__ import annotations


class DatasetError(ValueError):
    """A dataset is missing, malformed or misconfigured.

    The message is one line that names the offending path or value and says how to fix it.
    """
