"""Atomic file writes: a reader sees the old file or the complete new one, never a truncated one.

Every results file (metrics, tables, reports, scores, checkpoints, cache entries and index) is written
through here: the bytes go to a temporary file in the same folder, are flushed to disk, and the file is
renamed over the target (``os.replace`` is atomic on POSIX and Windows). The file gets the permissions an
ordinary write would give: those of the file it replaces, else ``0o666`` less the process umask (644 under
the usual umask 022), not the 600 of a bare temporary file.

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


def current_umask() -> int:
    """The process umask, read without changing it where ``/proc`` tells (Linux), else by setting it back."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def ordinary_mode(path: Path) -> int:
    """Permission bits a plain ``open(path, "w")`` would leave: the existing file's, else 0o666 & ~umask."""
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        return 0o666 & ~current_umask()


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w", **kwargs: Any) -> Iterator[IO]:
    """Open a temporary file beside ``path``; on a clean exit it replaces ``path``, on an error it is removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        if hasattr(os, "fchmod"):  # POSIX (Windows has no such bits)
            os.fchmod(fd, ordinary_mode(path))
        with os.fdopen(fd, mode, **kwargs) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as error:
        if error.filename not in (None, tmp):
            raise
        # A write that failed (no space, quota, ...) names the file the user asked for, not the temporary.
        raise OSError(error.errno, error.strerror or str(error), str(path)) from error
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
