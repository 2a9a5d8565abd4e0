"""A toy dashboard panel for the tests: switched on from the config, shown by every logger."""

from __future__ import annotations

from typing import Any

from winclip_lit.callbacks.panels import Panel


class TopScores(Panel):
    """``<category>/top``: the ``count`` highest-scoring test images of each category."""

    def __init__(self, count: int = 2) -> None:
        self.count = count

    def show_category(self, category: str, module: Any) -> None:
        top = sorted(module.images, key=lambda r: -r.score)[: self.count]
        self.show("table", f"{category}/top", ["file", "score"], [[r.file, r.score] for r in top])
