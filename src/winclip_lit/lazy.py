"""Lazy package exports: a package names its public objects and where they live; each module is imported
on first use, so ``import winclip_lit.data`` or ``winclip_lit.model.options`` stays cheap.

Examples:
    In a package's ``__init__.py``::

        __getattr__, __dir__, __all__ = lazy_exports(__name__, {"WinCLIP": "winclip_lit.model.winclip"})
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(
    package: str, exports: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]], list[str]]:
    """Module ``__getattr__``, ``__dir__`` and ``__all__`` for ``{name: module}`` exports of ``package``."""
    names = sorted(exports)

    def module_getattr(name: str) -> Any:
        if name in exports:
            return getattr(importlib.import_module(exports[name]), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def module_dir() -> list[str]:
        return names

    return module_getattr, module_dir, names
