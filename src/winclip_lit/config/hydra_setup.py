"""Everything Hydra needs before it composes our configs: schemas, resolvers, numeric group options.

Call :func:`prepare_hydra` before ``hydra.main`` or ``hydra.compose`` runs over ``winclip_lit``'s configs
(the ``winclip-lit`` command, the top-level scripts and the test helpers do).
"""

from __future__ import annotations

import functools
from typing import Any

from omegaconf import ListConfig, OmegaConf

from winclip_lit.config.keys import run_name
from winclip_lit.config.schema import SCHEMAS


def _dirname(overrides: Any) -> str:
    """Resolver ``winclip_dirname``: a sweep job's folder name from ``hydra.overrides.task``."""
    if isinstance(overrides, ListConfig):
        overrides = OmegaConf.to_container(overrides)
    if isinstance(overrides, str):  # Hydra's override_dirname string
        overrides = [overrides] if overrides else []
    return run_name(overrides)


def allow_numeric_group_choices() -> None:
    """Let ``shot=1`` (an int to Hydra's parser) choose the config group option ``shot/1.yaml``.

    Hydra 1.3 refuses non-string values for config-group overrides. Numbers are turned into their
    string before Hydra's check, for every way overrides arrive (command line, sweepers such as Optuna,
    ``hydra.compose``), so ``-m shot=0,1,2,4`` and ``shot.k=8`` both work without rewriting argv.
    """
    from hydra._internal import defaults_list

    overrides_type = defaults_list.Overrides
    if getattr(overrides_type, "_winclip_numeric", False):
        return
    original = overrides_type.__init__

    @functools.wraps(original)
    def init(self: Any, repo: Any, overrides_list: list) -> None:
        for override in overrides_list:
            value = getattr(override, "_value", None)
            numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
            if numeric and not override.is_sweep_override() and repo.group_exists(override.key_or_group):
                override._value = str(value)
        original(self, repo, overrides_list)

    overrides_type.__init__ = init
    overrides_type._winclip_numeric = True


def prepare_hydra() -> None:
    """Register the schemas and resolvers and allow numeric group choices (idempotent)."""
    from hydra.core.config_store import ConfigStore

    store = ConfigStore.instance()
    for name, node in SCHEMAS.items():
        store.store(name=name, node=node)
    if not OmegaConf.has_resolver("winclip_dirname"):
        OmegaConf.register_new_resolver("winclip_dirname", _dirname)
    allow_numeric_group_choices()
