"""Command-line arguments of sweep agents -> Hydra overrides.

A W&B sweep agent calls the program with the sweep's values. With ``${args_no_hyphens}`` in the
sweep's ``command`` (our ``sweeps/*.yaml``) they are Hydra overrides already (``shot=1``); with
W&B's default command (``${args}``) they come as ``--shot=1 --model.temperature=0.01`` and with
``${args_no_equals}`` as ``--shot 1``. :func:`hydra_overrides` turns both forms into Hydra
overrides, so a user's own sweep file works too; Hydra's own flags and ordinary overrides pass
through unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from winclip_lit.engine.errors import ConfigError

HYDRA_SWITCHES = frozenset(
    {"--help", "-h", "--hydra-help", "--version", "--resolve", "--run", "-r", "--multirun", "-m"}
    | {"--shell-completion", "-sc"}
)
"""Hydra flags without a value."""

HYDRA_OPTIONS = frozenset(
    {"--cfg", "-c", "--package", "-p", "--config-path", "-cp", "--config-name", "-cn", "--config-dir", "-cd"}
    | {"--experimental-rerun"}
)
"""Hydra flags that take a value (``--cfg job`` or ``--cfg=job``)."""

HYDRA_INFO = ("--info", "-i")
INFO_CHOICES = frozenset({"all", "config", "defaults", "defaults-tree", "plugins", "searchpath"})
"""``--info`` takes an optional value from these."""

_KEY = re.compile(r"^(?:\+\+|\+|~)?[A-Za-z_][\w\-]*(?:[./@][\w\-]+)*$")
_NUMBER = re.compile(r"^-\d*\.?\d+(?:[eE][-+]?\d+)?$")


def hydra_overrides(argv: Sequence[str]) -> list[str]:
    """Turn agent-style ``--key=value`` / ``--key value`` arguments into Hydra overrides ``key=value``.

    Hydra's flags (``-m``, ``--multirun``, ``--cfg job``, ``--config-name x``, ``--info``, ``--help``,
    ...) and ordinary overrides are kept as they are, in order; everything after ``--`` too.

    Args:
        argv: The command-line arguments without the program name.

    Returns:
        The arguments for Hydra.

    Raises:
        ConfigError: A ``--key`` without a value.

    Examples:
        >>> hydra_overrides(["--shot=1", "--model.temperature", "0.01", "-m", "window=paper,small"])
        ['shot=1', 'model.temperature=0.01', '-m', 'window=paper,small']
        >>> hydra_overrides(["--cfg", "job", "--config-name=config", "--seed=2"])
        ['--cfg', 'job', '--config-name=config', 'seed=2']
    """
    out: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        flag, has_value, value = arg.partition("=")
        if arg == "--":
            out += argv[i:]
            break
        if arg in HYDRA_SWITCHES or (has_value and flag in HYDRA_OPTIONS | set(HYDRA_INFO)):
            out.append(arg)
        elif arg in HYDRA_OPTIONS:
            out += argv[i : i + 2]
            i += 1
        elif arg in HYDRA_INFO:
            out.append(arg)
            if i + 1 < len(argv) and argv[i + 1] in INFO_CHOICES:
                out.append(argv[i + 1])
                i += 1
        elif arg.startswith("--") and _KEY.match(flag[2:]):
            key = flag[2:]
            if has_value:
                out.append(f"{key}={value}")
            elif i + 1 < len(argv) and _is_value(argv[i + 1]):
                out.append(f"{key}={argv[i + 1]}")
                i += 1
            else:
                raise ConfigError(f"argument {arg} has no value; write {key}=<value> or {arg}=<value>")
        else:
            out.append(arg)
        i += 1
    return out


def _is_value(token: str) -> bool:
    """Whether the token after ``--key`` is its value: not a flag (negative numbers are values) and
    not an override of its own (``key=value``)."""
    if token.startswith("-"):
        return bool(_NUMBER.match(token))
    key, has_value, _ = token.partition("=")
    return not (has_value and _KEY.match(key))


def split_flags(argv: Sequence[str]) -> tuple[list[str], list[str]]:
    """Hydra's flags (with their values) and the overrides of already converted arguments, each in order.

    Hydra's argument parser wants the overrides in one run, so an override added by the program (the job
    name) goes after all of them, and the flags before.

    Examples:
        >>> split_flags(["shot=1", "-m", "seed=0,1", "--cfg", "job"])
        (['-m', '--cfg', 'job'], ['shot=1', 'seed=0,1'])
    """
    flags: list[str] = []
    overrides: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            overrides += argv[i + 1 :]
            break
        if (
            arg in HYDRA_OPTIONS
            and i + 1 < len(argv)
            or arg in HYDRA_INFO
            and i + 1 < len(argv)
            and argv[i + 1] in INFO_CHOICES
        ):
            flags += argv[i : i + 2]
            i += 1
        elif arg.startswith("-"):
            flags.append(arg)
        else:
            overrides.append(arg)
        i += 1
    return flags, overrides
