"""Records each category's results the moment its test loop ends, before any dashboard panel draws.

The recorder is the trainer's first callback: a panel that fails afterwards (a full disk while writing a
figure, say) cannot lose a category whose metrics are computed, and ``resume=true`` skips it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lightning.pytorch.callbacks import Callback


class CategoryResults(Callback):
    """Calls ``record(module)`` on rank 0 after each category's test loop (metrics computed and gathered).

    Args:
        record: What to do with the tested module (e.g. append its results to ``metrics.partial.jsonl``).
    """

    def __init__(self, record: Callable[[Any], None]) -> None:
        self.record = record

    def on_test_end(self, trainer: Any, pl_module: Any) -> None:
        """Record the category that was just tested."""
        if trainer.is_global_zero:
            self.record(pl_module)
