"""The dashboard beside Lightning's ``csv/metrics.csv``: each table as a CSV file of its own."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from winclip_lit.loggers.view import View


def table_file(log_dir: str | Path, key: str) -> Path:
    """``<log dir>/<key with / as ->.csv``: ``csv/bottle-images.csv`` for the table ``bottle/images``."""
    return Path(log_dir) / f"{key.replace('/', '-')}.csv"


class CsvView(View):
    """Writes the tables of the panels (per-image rows, results) beside a ``CSVLogger``'s ``metrics.csv``."""

    def __init__(self, logger: Any) -> None:
        self.log_dir = Path(logger.log_dir)

    def table(self, key: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """``<log dir>/<key>.csv`` (atomically)."""
        from winclip_lit.reporting.tables import write_csv

        write_csv(table_file(self.log_dir, key), list(columns), rows)
