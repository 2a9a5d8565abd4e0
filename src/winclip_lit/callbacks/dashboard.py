"""What a run shows besides numbers: per-category curves, sample overlays and per-image tables, the
per-category bar chart and the results table, on disk (``<run dir>/figures/``, every logger) and in W&B.

Examples:
    A run's figures after ``winclip-lit evaluate logger=none``::

        figures/metrics.png                 per-category metrics (bars)
        figures/<category>/curves.png       image/pixel ROC and PR, PRO up to metrics.fpr_limit
        figures/<category>/samples/*.png    overlays of normal images and every defect type
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from winclip_lit.loggers.build import wandb_runs
from winclip_lit.reporting.tables import METRIC_LABELS
from winclip_lit.samples import ImageResult, sample_indices


def choose_indices(records: Sequence[Any], n: int) -> set[int]:
    """Dataset indices of the ``n`` images shown for a category, spread over normal images and defects."""
    files = [str(r.image) for r in records]
    return set(sample_indices(files, [str(r.defect) for r in records], [int(r.label) for r in records], n))


def _sample_triples(module: Any) -> list[tuple[ImageResult, Any, Any]]:
    by_file = {result.file: result for result in module.images}
    return [
        (by_file[s.image_path], s.anomaly_map.numpy(), s.mask.numpy() if s.label else None)
        for s in module.samples
        if s.image_path in by_file
    ]


def show_category(
    category: str,
    module: Any,
    output_dir: Path,
    loggers: Sequence[Any],
    max_points: int,
    figures: bool,
    threshold: float = 0.5,
) -> None:
    """Curves, overlays and the per-image table of the category the module just tested (rank 0)."""
    curves = module.metrics.curves(max_points=max_points)
    samples = _sample_triples(module)
    if figures:
        from winclip_lit.reporting.figures import write_category_figures

        write_category_figures(output_dir, category, curves, samples, threshold)
    runs = wandb_runs(loggers)
    if not runs:
        return
    from winclip_lit.loggers.wandb_media import curve_charts, image_table, sample_images

    payload = {**curve_charts(category, curves), f"{category}/images": image_table(module.images)}
    if samples:
        payload[f"{category}/samples"] = sample_images(samples, threshold)
    for run in runs:
        run.log(payload)


def show_run(
    results: Mapping[str, Mapping[str, float | None]],
    mean: Mapping[str, float | None],
    keys: Sequence[str],
    output_dir: Path,
    loggers: Sequence[Any],
    figures: bool,
) -> None:
    """The per-category bar chart and the results table of the whole run (rank 0)."""
    if figures and results:
        from winclip_lit.reporting.figures import draw_metric_bars, figures_dir

        draw_metric_bars(figures_dir(output_dir) / "metrics.png", results, keys)
    runs = wandb_runs(loggers)
    if not runs:
        return
    import wandb

    from winclip_lit.loggers.wandb_media import metric_bar_charts

    table = wandb.Table(columns=["category", *(METRIC_LABELS.get(k, k) for k in keys)])
    for name, row in {**results, "mean": mean}.items():
        table.add_data(name, *(None if row.get(k) is None else 100.0 * row[k] for k in keys))
    for run in runs:
        run.log({"results": table, **metric_bar_charts(results, keys)})
