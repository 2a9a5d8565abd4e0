"""Result files and human tables: metrics.json, Markdown and CSV in percent with one decimal."""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from winclip_lit.files import atomic_open, write_text

PARTIAL_FILE = "metrics.partial.jsonl"
"""One JSON line per finished category of an evaluation; a folder with it but no metrics.json is unfinished."""

METRIC_LABELS = {
    "image_auroc": "image AUROC",
    "image_ap": "image AP",
    "image_f1max": "image F1-max",
    "pixel_auroc": "pixel AUROC",
    "pixel_ap": "pixel AP",
    "pixel_f1max": "pixel F1-max",
    "pixel_aupro": "PRO",
    "image_tpr_fpr1": "TPR@FPR1%",
    "image_tpr_fpr5": "TPR@FPR5%",
    "image_tnr_fnr1": "TNR@FNR1%",
    "image_tnr_fnr5": "TNR@FNR5%",
    "mad": "mAD",
    "image_threshold": "image threshold",
    "image_fpr": "image FPR",
    "image_tpr": "image TPR",
    "pixel_threshold": "pixel threshold",
    "pixel_fpr": "pixel FPR",
    "pixel_tpr": "pixel TPR",
}

NOT_AVERAGED = ("image_threshold", "pixel_threshold")
"""Per-category values whose mean over categories means nothing (their mean is null)."""


def percent(value: float | None) -> str:
    """A fraction as a percentage with one decimal ("-" when missing)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{100.0 * value:.1f}"


def mean_over(
    results: Mapping[str, Mapping[str, float | None]], keys: Sequence[str]
) -> dict[str, float | None]:
    """Plain mean over categories per metric (None when any category lacks the metric, and for thresholds)."""
    mean: dict[str, float | None] = {}
    for key in keys:
        if key in NOT_AVERAGED:
            mean[key] = None
            continue
        values = [row.get(key) for row in results.values()]
        usable = [v for v in values if v is not None and not math.isnan(v)]
        mean[key] = sum(usable) / len(usable) if usable and len(usable) == len(values) else None
    return mean


def markdown(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A GitHub Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def write_table(stem: Path, header: Sequence[str], rows: Sequence[Sequence[str]]) -> tuple[Path, Path]:
    """Write ``<stem>.md`` and ``<stem>.csv`` with the same rows (atomically)."""
    md, csv_path = stem.with_suffix(".md"), stem.with_suffix(".csv")
    write_text(md, markdown(header, rows))
    write_csv(csv_path, header, rows)
    return md, csv_path


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> Path:
    """Atomically write a CSV file."""
    with atomic_open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def metric_rows(
    results: Mapping[str, Mapping[str, float | None]], mean: Mapping[str, float | None], keys: Sequence[str]
) -> tuple[list[str], list[list[str]]]:
    """Header and rows (one per category, then the mean) of a per-category results table."""
    header = ["category", *(METRIC_LABELS.get(k, k) for k in keys)]
    rows = [[name, *(percent(row.get(k)) for k in keys)] for name, row in results.items()]
    rows.append(["mean", *(percent(mean.get(k)) for k in keys)])
    return header, rows


def write_results(
    output_dir: Path,
    results: Mapping[str, Mapping[str, float | None]],
    keys: Sequence[str],
    references: Mapping[str, list[str]],
    config: dict[str, Any],
    throughput: Mapping[str, float],
    by_type: Mapping[str, Mapping[str, Mapping[str, float | None]]] | None = None,
) -> dict[str, Any]:
    """Write ``metrics.json`` (fractions) and ``metrics.md`` / ``metrics.csv`` (percent); return the JSON.

    ``by_type`` (category -> anomaly type -> metrics, MVTec LOCO) adds ``by_defect_type`` to the JSON and
    ``metrics_by_type.md`` / ``.csv`` (one row per category and type, then each type's mean).
    """
    mean = mean_over(results, keys)
    payload = {
        "categories": {name: {k: row.get(k) for k in keys} for name, row in results.items()},
        "mean": mean,
        "references": dict(references),
        "config": config,
        "throughput": dict(throughput),
    }
    per_type = defect_type_results(by_type or {}, keys)
    if per_type:
        payload["by_defect_type"] = per_type
    write_text(output_dir / "metrics.json", json.dumps(payload, indent=2, allow_nan=False))
    write_table(output_dir / "metrics", *metric_rows(results, mean, keys))
    if per_type:
        write_table(output_dir / "metrics_by_type", *defect_type_rows(per_type, keys))
    return payload


def mean_std(values: Sequence[float]) -> tuple[float, float | None]:
    """Mean and sample standard deviation of repeated runs (None for a single run: no spread to show).

    Examples:
        >>> mean_std([85.0, 95.0])
        (90.0, 7.0710678118654755)
        >>> mean_std([85.0])
        (85.0, None)
    """
    import statistics

    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else None


def defect_type_results(
    by_type: Mapping[str, Mapping[str, Mapping[str, float | None]]], keys: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """``{type: {"categories": {category: metrics}, "mean": metrics}}`` from category -> type -> metrics."""
    types = list(dict.fromkeys(kind for row in by_type.values() for kind in row))
    out = {}
    for kind in types:
        rows = {name: {k: row[kind].get(k) for k in keys} for name, row in by_type.items() if kind in row}
        out[kind] = {"categories": rows, "mean": mean_over(rows, keys)}
    return out


def defect_type_rows(
    per_type: Mapping[str, Mapping[str, Any]], keys: Sequence[str]
) -> tuple[list[str], list[list[str]]]:
    """Header and rows (``category``, ``anomaly type``, metrics in percent) of :func:`defect_type_results`."""
    header = ["category", "anomaly type", *(METRIC_LABELS.get(k, k) for k in keys)]
    rows = []
    for kind, entry in per_type.items():
        for name, row in entry["categories"].items():
            rows.append([name, kind, *(percent(row.get(k)) for k in keys)])
        rows.append(["mean", kind, *(percent(entry["mean"].get(k)) for k in keys)])
    return header, rows
