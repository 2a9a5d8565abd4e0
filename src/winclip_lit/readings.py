"""The public readings of WinCLIP (arXiv 2303.14814) as config presets: ``reading=<name>``.

The paper leaves choices open and public implementations fill them differently. Each preset in
``conf/reading/`` sets exactly the config keys listed here for it, to the values listed here (a test
composes every preset and compares it with ``reading=paper``); ``docs/fidelity.md`` explains every choice
and shows this table.
"""

from __future__ import annotations

from typing import Any

from winclip_lit.model.prompts import ANOMALIB_TEMPLATES

READINGS: dict[str, dict[str, Any]] = {
    # Our default: docs/algorithm.md, the paper where it is explicit.
    "paper": {},
    # anomalib 2.7.0, src/anomalib/models/image/winclip/ (with open_clip < 2.26.1, as it pins).
    "anomalib": {
        "prompt.templates": list(ANOMALIB_TEMPLATES),
        "prompt.text_average": "raw",
        "prompt.raw_class_names": True,
        "model.resize_backend": "tensor",
    },
    # zqhang/Accurate-WinCLIP-pytorch, reproduce_WinCLIP.py (the AnomalyCLIP authors' re-implementation).
    "accurate_winclip": {
        "prompt.templates": list(ANOMALIB_TEMPLATES),
        "prompt.text_average": "raw",
        "prompt.raw_class_names": True,
        "model.patch_features": "pre_ln_post",
    },
    # mala-lab/WinCLIP, main.py + open_clip/model.py + datasets/mvtec_dataset.py (image level only).
    "mala_lab": {
        "model.temperature": 0.01,
        "model.patch_features": "pre_ln_post",
        "dataset.class_name_map": {},
        "model.tiling": True,
        "model.tile_image_score": "mean",
    },
}
"""Config keys (dotted) and values that each ``reading=<name>`` preset sets; all other keys stay as in
``reading=paper``."""


def _cell(key: str, value: Any) -> str:
    if key == "prompt.templates":
        return f"`prompt=anomalib` ({len(value)} templates)"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, dict) and not value:
        return "`{}`"
    return f"`{value}`"


def reading_table() -> str:
    """The markdown table of :data:`READINGS` that ``docs/fidelity.md`` shows (a test keeps them equal)."""
    rows = ["| reading | key | value |", "|---|---|---|"]
    for name, options in READINGS.items():
        if not options:
            rows.append(f"| `{name}` | (none: the defaults) | |")
        for key, value in options.items():
            rows.append(f"| `{name}` | `{key}` | {_cell(key, value)} |")
    return "\n".join(rows)
