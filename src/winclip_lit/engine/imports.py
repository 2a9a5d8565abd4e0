"""Import only what a run uses: optional packages that libraries import eagerly are kept out of runs that
do not use them.

timm (open_clip's dependency) imports W&B when it is installed, for its own training scripts; a run
without a W&B logger pays ~1-2 s for nothing. :func:`blocked_imports` makes such imports fail as if the
package were absent while the run's modules load; afterwards the package imports normally again.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import sys
from collections.abc import Iterable, Iterator
from typing import Any


class _Blocker(importlib.abc.MetaPathFinder):
    def __init__(self, names: Iterable[str]) -> None:
        self.names = tuple(names)

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> None:
        if fullname.split(".")[0] in self.names:
            raise ModuleNotFoundError(f"{fullname} is not used by this run", name=fullname)
        return None


@contextlib.contextmanager
def blocked_imports(names: Iterable[str]) -> Iterator[None]:
    """Within the block, importing any of ``names`` (not yet imported) fails with ModuleNotFoundError."""
    names = [n for n in names if n not in sys.modules]
    if not names:
        yield
        return
    blocker = _Blocker(names)
    sys.meta_path.insert(0, blocker)
    try:
        yield
    finally:
        sys.meta_path.remove(blocker)


def unused_packages(cfg: Any) -> list[str]:
    """Optional packages a run config does not need: W&B without a W&B logger."""
    loggers = cfg.get("logger") or {}
    uses_wandb = any("wandb" in str(spec.get("_target_", "")).lower() for spec in loggers.values())
    return [] if uses_wandb else ["wandb"]
