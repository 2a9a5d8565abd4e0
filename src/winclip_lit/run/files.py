"""Atomic file writes: a reader never sees half a file, a failed write leaves the old file in place."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def write_atomic(path: str | Path, write: Callable[[BinaryIO], object]) -> Path:
    """Write a file through a temporary file in the same folder, then move it into place.

    Args:
        path: The file to (over)write; its folder is created.
        write: Called with the open binary temporary file (e.g. ``lambda f: fig.savefig(f, format="png")``).

    Returns:
        ``path``.

    Examples:
        >>> import tempfile
        >>> target = Path(tempfile.mkdtemp()) / "a" / "hello.txt"
        >>> write_atomic(target, lambda f: f.write(b"hi")).read_bytes()
        b'hi'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path
