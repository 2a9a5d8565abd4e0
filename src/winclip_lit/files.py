"""Atomic file writes: a reader sees the old file or the complete new one, never a truncated one.

Every results file (metrics, tables, reports, scores, checkpoints, cache entries and index) is written
through here: the bytes go to a temporary file in the same folder, are flushed to disk, and the file is
renamed over the target (``os.replace`` is atomic on POSIX and Windows).

Examples:
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> write_text(path, "done\\n").read_text()
    'done\\n'
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w", **kwargs: Any) -> Iterator[IO]:
    """Open a temporary file beside ``path``; on a clean exit it replaces ``path``, on an error it is removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode, **kwargs) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_atomic(path: str | os.PathLike, write: Callable[[IO], object]) -> Path:
    """Write a file through a callback given the open binary temporary file (e.g. ``fig.savefig(f)``).

    Examples:
        >>> import tempfile, pathlib
        >>> target = pathlib.Path(tempfile.mkdtemp()) / "a" / "hello.txt"
        >>> write_atomic(target, lambda f: f.write(b"hi")).read_bytes()
        b'hi'
    """
    with atomic_open(path, "wb") as handle:
        write(handle)
    return Path(path)


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Atomically write ``text`` (UTF-8) to ``path``; returns the path."""
    with atomic_open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    return Path(path)


def write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Atomically write ``data`` to ``path``; returns the path."""
    with atomic_open(path, "wb") as handle:
        handle.write(data)
    return Path(path)


def append_line(path: str | os.PathLike, line: str) -> Path:
    """Append one line by rewriting the file atomically (for small logs such as per-category results)."""
    path = Path(path)
    old = path.read_text(encoding="utf-8") if path.is_file() else ""
    if old and not old.endswith("\n"):
        old += "\n"
    return write_text(path, old + line.rstrip("\n") + "\n")
