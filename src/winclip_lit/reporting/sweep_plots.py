"""Sweep figures for report.py: each metric against the number of shots k with ± std over seeds (one
line per other setting), and bars per setting for window / prompt ablations, next to the paper's
figures (WinCLIP, arXiv 2303.14814, Tables 1-2; docs/algorithm.md 9).

Pure functions of plain data: a sweep is a list of ``(setting, per-seed means)`` pairs, where a
setting is a flat ``{dotted config key: value}`` dict without the seed (``report.setting_of``) and
each per-seed mean is a run's ``metrics.json["mean"]`` (fractions). Figures are in percent; the
std is the sample std over seeds (0 for one seed), as in report.md. PNGs are written atomically.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from winclip_lit.reporting.tables import METRIC_LABELS, mean_std

SweepGroup = tuple[Mapping[str, Any], Sequence[Mapping[str, float | None]]]
"""One setting and the mean metrics of each of its seeds."""

SHOT_KEY = "shot.k"
DATASET_KEY = "dataset.name"
DEFAULT_METRICS = ("image_auroc", "pixel_auroc", "pixel_aupro")
"""The paper's main columns."""


@dataclass(frozen=True)
class Stat:
    """Mean and sample std over seeds, in percent.

    Attributes:
        label: The setting (its values of the keys that vary) or the k it is drawn at.
        mean: Mean over seeds.
        std: Sample std over seeds (0 for one seed).
        n: Number of seeds.
    """

    label: str | int
    mean: float
    std: float
    n: int


def seed_stats(means: Sequence[Mapping[str, float | None]], metric: str) -> tuple[float, float, int] | None:
    """Mean and sample std in percent of one metric over the seeds; None if a seed lacks it.

    Examples:
        >>> seed_stats([{"image_auroc": 0.9}, {"image_auroc": 0.8}], "image_auroc")
        (85.0, 7.0710678118654755, 2)
    """
    values = [m.get(metric) for m in means]
    if not values or any(v is None or v != v for v in values):
        return None
    percent = [100.0 * float(v) for v in values]
    mean, std = mean_std(percent)
    return mean, std or 0.0, len(percent)


def varying_keys(settings: Sequence[Mapping[str, Any]], exclude: Sequence[str] = ()) -> list[str]:
    """The keys whose value differs between settings (sorted), without ``exclude``."""
    keys = sorted({k for s in settings for k in s} - set(exclude))
    return [k for k in keys if len({_text(s.get(k)) for s in settings}) > 1]


def setting_label(setting: Mapping[str, Any], keys: Sequence[str]) -> str:
    """``"window.scales=[2, 3], prompt.text_average=raw"``, or ``"all runs"`` without keys."""
    if not keys:
        return "all runs"
    return ", ".join(f"{k}={_text(setting.get(k))}" for k in keys)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)


def shot_series(groups: Sequence[SweepGroup], metric: str, shot_key: str = SHOT_KEY) -> dict[str, list[Stat]]:
    """Per setting other than k: the metric at each k (``Stat.label`` = k), sorted by k.

    Settings are named by the keys that vary between them (``shot_key`` left out); a setting
    whose seeds lack the metric at some k has no point there.
    """
    others = varying_keys([s for s, _ in groups], exclude=[shot_key])
    series: dict[str, list[Stat]] = {}
    for setting, means in groups:
        stats = seed_stats(means, metric)
        line = series.setdefault(setting_label(setting, others), [])
        if stats is not None and setting.get(shot_key) is not None:
            line.append(Stat(int(setting[shot_key]), *stats))
    return {name: sorted(points, key=lambda p: p.label) for name, points in series.items()}


def setting_bars(groups: Sequence[SweepGroup], metric: str) -> list[Stat]:
    """One bar per setting (``Stat.label`` = the setting's varying values), in the given order."""
    keys = varying_keys([s for s, _ in groups])
    bars = []
    for setting, means in groups:
        stats = seed_stats(means, metric)
        if stats is not None:
            bars.append(Stat(setting_label(setting, keys), *stats))
    return bars


def draw_shot_curves(
    path: str | Path,
    groups: Sequence[SweepGroup],
    metrics: Sequence[str] = DEFAULT_METRICS,
    paper: Mapping[int, Mapping[str, float]] | None = None,
    shot_key: str = SHOT_KEY,
    title: str = "",
) -> dict[str, dict[str, list[Stat]]]:
    """Each metric against k (one panel per metric), error bars ± std over seeds, paper points as ×.

    Args:
        path: The PNG to write.
        groups: The sweep's (setting, per-seed means).
        metrics: Metric keys, one panel each.
        paper: The paper's figures in percent by k (``{1: {"image_auroc": 93.1, ...}}``), or None.
        shot_key: The setting key holding k.
        title: Figure title.

    Returns:
        The drawn data: metric -> line label -> points (k, mean, std, n).
    """
    from winclip_lit.reporting.figures import new_figure, save_png

    figure = new_figure(4.0 * len(metrics) + 1.0, 3.8)
    drawn: dict[str, dict[str, list[Stat]]] = {}
    for i, metric in enumerate(metrics):
        axes = figure.add_subplot(1, len(metrics), i + 1)
        drawn[metric] = shot_series(groups, metric, shot_key)
        for name, points in drawn[metric].items():
            if points:
                axes.errorbar(
                    [p.label for p in points],
                    [p.mean for p in points],
                    yerr=[p.std for p in points],
                    marker="o",
                    capsize=3,
                    label=name,
                )
        reference = sorted((k, row[metric]) for k, row in (paper or {}).items() if metric in row)
        if reference:
            axes.plot(*zip(*reference, strict=True), "kx", markersize=8, linestyle="none", label="paper")
        shots = sorted({p.label for line in drawn[metric].values() for p in line} | {k for k, _ in reference})
        axes.set_xticks(shots)
        axes.set_xlabel("shots k")
        axes.set_ylabel(f"{METRIC_LABELS.get(metric, metric)} (%)")
        axes.grid(alpha=0.3)
        if axes.get_legend_handles_labels()[0]:
            axes.legend(fontsize=7)
    if title:
        figure.suptitle(title)
    save_png(figure, path)
    return drawn


def draw_setting_bars(
    path: str | Path,
    groups: Sequence[SweepGroup],
    metrics: Sequence[str] = DEFAULT_METRICS,
    paper: Mapping[str, float] | None = None,
    title: str = "",
) -> dict[str, list[Stat]]:
    """Bars per setting ± std over seeds (one panel per metric), the paper's figure as a dashed line.

    Args:
        path: The PNG to write.
        groups: The sweep's (setting, per-seed means), e.g. a window or prompt ablation.
        metrics: Metric keys, one panel each.
        paper: The paper's figures in percent for the ablated dataset and k (the paper setting), or None.
        title: Figure title.

    Returns:
        The drawn data: metric -> bars (setting label, mean, std, n).
    """
    from winclip_lit.reporting.figures import new_figure, save_png

    n_settings = len(groups)
    figure = new_figure(max(4.0, 0.6 * n_settings + 1.5) * len(metrics), 4.6)
    drawn: dict[str, list[Stat]] = {}
    for i, metric in enumerate(metrics):
        axes = figure.add_subplot(1, len(metrics), i + 1)
        bars = drawn[metric] = setting_bars(groups, metric)
        positions = list(range(len(bars)))
        axes.bar(positions, [b.mean for b in bars], yerr=[b.std for b in bars], capsize=3, color="tab:blue")
        axes.set_xticks(positions, [str(b.label) for b in bars], rotation=30, ha="right", fontsize=7)
        if paper and metric in paper:
            axes.axhline(paper[metric], color="black", linestyle="--", linewidth=1.0, label="paper")
            axes.legend(fontsize=7, loc="lower right")
        axes.set_ylabel(f"{METRIC_LABELS.get(metric, metric)} (%)")
        axes.set_ylim(0, 100)
        axes.grid(axis="y", alpha=0.3)
    if title:
        figure.suptitle(title)
    save_png(figure, path)
    return drawn


def draw_sweep_figures(
    out_dir: str | Path,
    groups: Sequence[SweepGroup],
    paper: Mapping[tuple[str, int], Mapping[str, float]] | None = None,
    metrics: Sequence[str] = DEFAULT_METRICS,
    shot_key: str = SHOT_KEY,
    dataset_key: str = DATASET_KEY,
) -> dict[str, Path]:
    """The figures that fit a sweep: ``sweep_shots.png`` when k varies, else ``sweep_settings.png``
    when there are several settings.

    Args:
        out_dir: Where to write (e.g. the report folder).
        groups: The sweep's (setting, per-seed means).
        paper: The paper's figures in percent by (dataset, k) (``report.PAPER``), or None.
        metrics: Metric keys to draw.
        shot_key: The setting key holding k.
        dataset_key: The setting key holding the dataset name.

    Returns:
        ``{"shots" | "settings": PNG}`` of the figures written (empty for a single setting).
    """
    out_dir = Path(out_dir)
    shots = {s.get(shot_key) for s, _ in groups}
    datasets = {str(s.get(dataset_key)) for s, _ in groups}
    dataset = datasets.pop() if len(datasets) == 1 else None
    written: dict[str, Path] = {}
    if len(shots) > 1:
        by_k = {k: row for (name, k), row in (paper or {}).items() if name == dataset}
        draw_shot_curves(out_dir / "sweep_shots.png", groups, metrics, by_k, shot_key, title=dataset or "")
        written["shots"] = out_dir / "sweep_shots.png"
    elif len(groups) > 1:
        (k,) = shots
        row = (paper or {}).get((dataset, int(k))) if dataset is not None and k is not None else None
        draw_setting_bars(out_dir / "sweep_settings.png", groups, metrics, row, title=dataset or "")
        written["settings"] = out_dir / "sweep_settings.png"
    return written
