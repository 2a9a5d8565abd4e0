"""The results ledger: ``ledger.csv``, one row per (dataset, category, k, seed) of every metrics.json below
a folder, with every metric and the config hash, metrics in ADer's column order (docs/experiments.md)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from winclip_lit.config.keys import LOCATION_KEYS, SEED_KEY, flatten, setting_of
from winclip_lit.metrics.keys import HEADLINE_KEYS, MAD_KEY, OPERATOR_KEYS
from winclip_lit.reporting.tables import write_csv

LEDGER_METRICS = (*HEADLINE_KEYS, MAD_KEY, *OPERATOR_KEYS)
"""ADer's order (mAU-ROC_I, mAP_I, m-F1max_I, mAU-ROC_P, mAP_P, m-F1max_P, mAU-PRO_P, mAD), then our
threshold-free operating points."""

LEDGER_HEADER = ("dataset", "category", "k", "seed", *LEDGER_METRICS, "config_hash", "run")
"""Columns of ``ledger.csv``; metrics in percent with two decimals, empty where undefined."""


def config_hash(config: Mapping[str, Any]) -> str:
    """12 hex digits of the sha256 of the run's result-defining setting, without the seed and the keys that
    only say where the data lives: runs of one setting share it across seeds and machines."""
    setting = {k: v for k, v in setting_of(dict(config)).items() if k not in LOCATION_KEYS}
    setting.pop("shot.seed", None)
    text = json.dumps(setting, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _percent(value: Any) -> str:
    return "" if value is None else f"{100.0 * float(value):.2f}"


def read_runs(files: Iterable[Path]) -> list[tuple[Path, Any]]:
    """Each metrics.json of ``files`` read and parsed once: ``(path, payload)``, where the payload is the
    parsed JSON or the ``OSError`` / ``ValueError`` that reading or parsing it raised."""
    runs: list[tuple[Path, Any]] = []
    for path in files:
        try:
            runs.append((path, json.loads(path.read_text(encoding="utf-8"))))
        except (OSError, ValueError) as error:
            runs.append((path, error))
    return runs


def ledger_rows(runs: Iterable[tuple[Path, Any]], root: Path) -> list[list[str]]:
    """Rows of every readable metrics.json of ``runs`` (:func:`read_runs`; unreadable ones are left to the
    report's notes). MVTec LOCO's anomaly types follow their category as ``<category>/<type>``."""
    rows = []
    for path, data in runs:
        if isinstance(data, Exception):
            continue
        try:
            config, categories = data["config"], data["categories"]
        except (KeyError, TypeError):
            continue
        flat = flatten(config)
        dataset, k = flat.get("dataset.name", ""), flat.get("shot.k", "")
        seed = flat.get(SEED_KEY, flat.get("shot.seed", ""))
        digest, run = config_hash(config), path.parent.relative_to(root).as_posix()
        entries = list(categories.items())
        for kind, entry in (data.get("by_defect_type") or {}).items():
            entries += [(f"{name}/{kind}", row) for name, row in entry["categories"].items()]
        for name, row in entries:
            metrics = [_percent(row.get(key)) for key in LEDGER_METRICS]
            rows.append([str(dataset), name, str(k), str(seed), *metrics, digest, run])
    return rows


def write_ledger(path: Path, runs: Iterable[tuple[Path, Any]], root: Path) -> Path:
    """Write ``ledger.csv`` (atomically) for the parsed ``runs`` (:func:`read_runs`) found below ``root``."""
    return write_csv(path, LEDGER_HEADER, ledger_rows(runs, root))
