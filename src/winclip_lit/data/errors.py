"""The single error type raised for bad dataset input, and the one warning type for suspicious data."""

from __future__ import annotations

import contextlib
import re
import sys
import warnings

# What torch's ExceptionWrapper.reraise passes when it rebuilds an error raised in a DataLoader worker:
# "Caught <Type> in DataLoader worker process <n>.\nOriginal Traceback (most recent call last): ...".
_WORKER_REPORT = re.compile(r"\ACaught \w+ in DataLoader worker process \d+\.\nOriginal Traceback")
# The traceback's last line: "<module>.<Type>: <our one-line message>".
_LAST_LINE = re.compile(r"^(?:[A-Za-z_][\w.]*\.)?[A-Za-z_]\w*: (.*)$")


def _own_message(text: str) -> tuple[str, str | None]:
    """(our message, the worker's full report or None) of a message that may come from a worker."""
    if not _WORKER_REPORT.match(text):
        return text, None
    lines = [line for line in text.splitlines() if line.strip()]
    match = _LAST_LINE.match(lines[-1]) if lines else None
    return (match.group(1), text) if match else (text, None)


class DatasetError(ValueError):
    """A dataset is missing, malformed or misconfigured.

    The message is one line that names the offending path or value and says how to fix it. When the error
    is raised inside a DataLoader worker, PyTorch rebuilds it in the main process from the worker's whole
    formatted traceback; the message is then cut back to our own line, so it reads exactly as with
    ``num_workers=0``, and the worker's report is kept in ``worker_traceback`` for debugging.

    Attributes:
        worker_traceback: The worker's formatted traceback, or None when raised in this process.
    """

    def __init__(self, message: object = "", *args: object) -> None:
        text, self.worker_traceback = _own_message(message) if isinstance(message, str) else (message, None)
        super().__init__(text, *args)


class DatasetWarning(UserWarning):
    """Data that is readable but probably not what the user meant (e.g. lossy masks)."""


def _show(message, category, filename, lineno, file=None, line=None) -> None:
    """``warnings.showwarning`` that prints a DatasetWarning as one plain line, others as before."""
    if not issubclass(category, DatasetWarning):
        _previous_show(message, category, filename, lineno, file, line)
        return
    stream = sys.stderr if file is None else file
    with contextlib.suppress(OSError, AttributeError):  # no usable stderr (e.g. a detached process)
        stream.write(f"{category.__name__}: {message}\n")


# Installed once on import: a DatasetWarning then prints as ``DatasetWarning: <message>``, without the
# default ``file.py:line:`` prefix (the line of the library that warned, which tells a user nothing).
# ``warnings.catch_warnings(record=True)`` and filters see ordinary warnings.
_previous_show = warnings.showwarning
warnings.showwarning = _show


def warn_dataset(message: str) -> None:
    """Issue a :class:`DatasetWarning` (printed as one plain line ``DatasetWarning: <message>``)."""
    warnings.warn(message, DatasetWarning, stacklevel=2)
