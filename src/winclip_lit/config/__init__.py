"""Configuration: typed schemas of the Hydra config groups, result-defining keys, range checks.

The YAML options live in ``winclip_lit/conf/`` (shipped with the package; the repository's top-level
``conf/`` links there). This package imports neither torch nor open_clip.
"""

from __future__ import annotations

from pathlib import Path

from winclip_lit.config.errors import ConfigError

CONFIG_DIR = str(Path(__file__).resolve().parents[1] / "conf")
"""The packaged configs (``winclip_lit/conf``)."""

__all__ = ["CONFIG_DIR", "ConfigError"]
