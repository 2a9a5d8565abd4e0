"""Figures on disk, for every logger (``none`` included): per category the ROC / PR / PRO curves and the
sample overlays, per run a bar chart of the per-category metrics.

Layout below a run folder (see :func:`category_figure_paths`)::

    figures/metrics.png                              per-category metrics, percent
    figures/<category>/curves.png                    image + pixel ROC, PR, PRO up to the FPR limit
    figures/<category>/histogram.png                 normal vs defective scores, thresholds drawn
    figures/<category>/samples/<nn>_<defect>_<stem>.png   [image | map overlay | ground truth]

Drawn with matplotlib's object-oriented API on an Agg canvas (imported when a figure is drawn, never
at import time; the global pyplot backend is left alone); every PNG is written atomically.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from winclip_lit.files import write_atomic
from winclip_lit.metrics.curves import CURVE_TITLES, Curve
from winclip_lit.reporting.tables import METRIC_LABELS
from winclip_lit.samples import ImageResult

if TYPE_CHECKING:
    from matplotlib.figure import Figure

FIGURES_DIR = "figures"
"""Folder of the figures inside a run folder."""

DPI = 100

_PANELS = (
    ("ROC", ("image_roc", "pixel_roc")),
    ("precision-recall", ("image_pr", "pixel_pr")),
    ("PRO", ("pixel_pro",)),
)


def new_figure(width: float, height: float) -> Figure:
    """A matplotlib Figure on its own Agg canvas (no pyplot, no global state)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def save_png(figure: Figure, path: str | Path) -> Path:
    """Write a figure as PNG, atomically."""
    return write_atomic(path, lambda handle: figure.savefig(handle, format="png", dpi=DPI))


_AREA_NAMES = {"auroc": "AUROC", "ap": "AP", "aupro": "AUPRO"}


def curve_label(key: str, curve: Curve) -> str:
    """Legend text of a curve: ``"pixel ROC, AUROC 93.1"`` (the area in percent)."""
    metric = curve.metric.rsplit("_", 1)[-1]
    return f"{CURVE_TITLES.get(key, key)}, {_AREA_NAMES.get(metric, metric)} {100.0 * curve.area:.1f}"


def draw_curves(path: str | Path, curves: Mapping[str, Curve], title: str = "") -> dict[str, np.ndarray]:
    """One PNG with the ROC, precision-recall and PRO panels of a category (panels without curves are left out).

    Args:
        path: The PNG to write.
        curves: ``AnomalyMetrics.curves()`` of one category.
        title: Figure title (e.g. the category).

    Returns:
        The drawn data: legend label -> (N, 2) array of the plotted (x, y) points.
    """
    figure, drawn = curves_figure(curves, title)
    save_png(figure, path)
    return drawn


def curves_figure(curves: Mapping[str, Curve], title: str = "") -> tuple[Figure, dict[str, np.ndarray]]:
    """The ROC, precision-recall and PRO panels of a category as a Figure, and the drawn points (legend
    label -> (N, 2) array); see :func:`draw_curves`."""
    panels = [(name, [k for k in keys if k in curves]) for name, keys in _PANELS]
    panels = [(name, keys) for name, keys in panels if keys]
    figure = new_figure(4.2 * max(1, len(panels)), 4.0)
    drawn: dict[str, np.ndarray] = {}
    for i, (name, keys) in enumerate(panels):
        axes = figure.add_subplot(1, len(panels), i + 1)
        first = curves[keys[0]]
        if name == "ROC":
            axes.plot([0, 1], [0, 1], color="0.75", linewidth=0.8, linestyle="--")
        for key in keys:
            curve = curves[key]
            (line,) = axes.plot(curve.x, curve.y, linewidth=1.4, label=curve_label(key, curve))
            drawn[line.get_label()] = np.asarray(line.get_xydata())
        axes.set_xlim(0.0, float(first.x[-1]) if name == "PRO" else 1.0)
        axes.set_ylim(0.0, 1.02)
        axes.set_xlabel(first.x_label)
        axes.set_ylabel(first.y_label)
        axes.set_title(name if name != "PRO" else f"PRO (FPR <= {float(first.x[-1]):g})")
        axes.grid(alpha=0.3)
        axes.legend(loc="lower right" if name != "precision-recall" else "lower left", fontsize=8)
    if title:
        figure.suptitle(title)
    return figure, drawn


def _percent(value: float | None) -> float:
    return math.nan if value is None or math.isnan(value) else 100.0 * value


def draw_metric_bars(
    path: str | Path,
    results: Mapping[str, Mapping[str, float | None]],
    keys: Sequence[str],
    title: str = "",
) -> dict[str, list[float]]:
    """Grouped bars: per category (x) one bar per metric, in percent; missing values are left out.

    Args:
        path: The PNG to write.
        results: Category (or ``"mean"``) -> metric key -> fraction (None or NaN when undefined).
        keys: The metric keys to draw, in order.
        title: Figure title.

    Returns:
        The drawn heights: metric key -> percent per category, in the order of ``results`` (NaN
        where missing).
    """
    figure, drawn = bars_figure(results, keys, title)
    save_png(figure, path)
    return drawn


def bars_figure(
    results: Mapping[str, Mapping[str, float | None]], keys: Sequence[str], title: str = ""
) -> tuple[Figure, dict[str, list[float]]]:
    """The grouped bars of :func:`draw_metric_bars` as a Figure, and the drawn heights."""
    names = list(results)
    figure = new_figure(min(24.0, max(6.0, 0.12 * len(names) * max(1, len(keys)) + 3.0)), 4.2)
    axes = figure.add_subplot(1, 1, 1)
    width = 0.8 / max(1, len(keys))
    drawn: dict[str, list[float]] = {}
    for j, key in enumerate(keys):
        heights = [_percent(results[name].get(key)) for name in names]
        positions = np.arange(len(names)) + (j - (len(keys) - 1) / 2) * width
        bars = axes.bar(positions, np.nan_to_num(heights, nan=0.0), width, label=METRIC_LABELS.get(key, key))
        for bar, height in zip(bars, heights, strict=True):
            bar.set_visible(not math.isnan(height))
        drawn[key] = heights
    axes.set_xticks(np.arange(len(names)), names, rotation=45 if len(names) > 6 else 0, ha="right")
    axes.set_ylabel("percent")
    axes.set_ylim(0, 100)
    axes.grid(axis="y", alpha=0.3)
    axes.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    if title:
        axes.set_title(title)
    return figure, drawn


def draw_score_histogram(
    path: str | Path,
    labels: Sequence[int],
    panels: Mapping[str, tuple[Sequence[float], float | None]],
    title: str = "",
    bins: int = 30,
) -> dict[str, dict[str, np.ndarray]]:
    """Histograms of normal vs defective images, one panel per score, each with its threshold drawn.

    Args:
        path: The PNG to write.
        labels: 0 normal, 1 defective, per image.
        panels: Panel title (``"image score"``, ``"max pixel score"``) -> (score per image, threshold or None).
        title: Figure title (e.g. the category).
        bins: Number of bins over the panel's score range.

    Returns:
        The drawn data: panel title -> ``{"normal": counts, "defective": counts, "edges": bin edges}``.
    """
    figure = new_figure(4.6 * max(1, len(panels)), 3.6)
    labels_array = np.asarray(labels, dtype=int)
    drawn: dict[str, dict[str, np.ndarray]] = {}
    for i, (name, (values, threshold)) in enumerate(panels.items()):
        axes = figure.add_subplot(1, len(panels), i + 1)
        scores = np.asarray(values, dtype=np.float64)
        low, high = float(scores.min()), float(scores.max())
        if threshold is not None:
            low, high = min(low, float(threshold)), max(high, float(threshold))
        edges = np.linspace(low, high if high > low else low + 1e-6, bins + 1)
        counts = {}
        for label, text, colour in ((0, "normal", "tab:blue"), (1, "defective", "tab:red")):
            part = scores[labels_array == label]
            counts[text] = np.histogram(part, bins=edges)[0]
            if len(part):
                axes.hist(part, bins=edges, alpha=0.55, color=colour, label=f"{text} ({len(part)})")
        if threshold is not None:
            axes.axvline(float(threshold), color="black", linestyle="--", linewidth=1.2)
            axes.plot([], [], color="black", linestyle="--", label=f"threshold {float(threshold):.4g}")
        axes.set_xlabel(name)
        axes.set_ylabel("images")
        axes.grid(alpha=0.3)
        axes.legend(fontsize=8)
        drawn[name] = {**counts, "edges": edges}
    if title:
        figure.suptitle(title)
    save_png(figure, path)
    return drawn


def save_overlay(
    path: str | Path,
    image_path: str | Path,
    anomaly_map: Any,
    threshold: float,
    mask: Any | None = None,
) -> Path:
    """[image | map overlay with the threshold outline | ground truth] as a PNG (``run.visualize.panel``).

    Args:
        path: The PNG to write.
        image_path: The test image.
        anomaly_map: (H, W) anomaly probabilities (tensor or array).
        threshold: Outline threshold.
        mask: Optional (H, W) ground truth in {0, 1}.
    """
    from winclip_lit.reporting.overlays import save_panel

    return save_panel(Path(path), _panel(image_path, anomaly_map, threshold, mask))


def _panel(image_path: str | Path, anomaly_map: Any, threshold: float, mask: Any | None) -> np.ndarray:
    from winclip_lit.reporting.overlays import panel

    return panel(image_path, _numpy(anomaly_map), threshold, None if mask is None else _numpy(mask))


def _numpy(value: Any) -> np.ndarray:
    return value.detach().cpu().numpy() if hasattr(value, "detach") else np.asarray(value)


def sample_figure(result: ImageResult, anomaly_map: Any, threshold: float, mask: Any | None = None) -> Figure:
    """A sample's [image | map overlay | ground truth] titled with its file, defect type and score."""
    picture = _panel(result.file, anomaly_map, threshold, mask)
    height, width = picture.shape[:2]
    figure = new_figure(max(3.0, width / DPI), height / DPI + 0.5)
    axes = figure.add_subplot(1, 1, 1)
    axes.imshow(picture)
    axes.set_axis_off()
    axes.set_title(f"{Path(result.file).name}: {result.defect}, score {result.score:.3f}", fontsize=9)
    return figure


def scores_figure(results: Sequence[ImageResult], title: str = "") -> tuple[Figure, dict[str, list[float]]]:
    """Histogram of the image scores of normal vs defective images, and the drawn scores per group."""
    groups = {
        "normal": [r.score for r in results if not r.label],
        "defective": [r.score for r in results if r.label],
    }
    figure = new_figure(5.0, 3.6)
    axes = figure.add_subplot(1, 1, 1)
    for name, scores in groups.items():
        if scores:
            axes.hist(scores, bins=20, range=(0.0, 1.0), alpha=0.6, label=f"{name} ({len(scores)})")
    axes.set_xlabel("image score")
    axes.set_ylabel("images")
    axes.legend(fontsize=8)
    if title:
        axes.set_title(title)
    return figure, groups


def figure_pixels(figure: Figure) -> np.ndarray:
    """The rendered (H, W, 3) uint8 RGB pixels of a Figure."""
    figure.canvas.draw()
    return np.asarray(figure.canvas.buffer_rgba())[..., :3].copy()


def figures_dir(run_dir: str | Path) -> Path:
    """``<run dir>/figures``."""
    return Path(run_dir) / FIGURES_DIR


def category_figure_paths(run_dir: str | Path, category: str) -> tuple[Path, Path]:
    """The curve PNG and the samples folder of a category: ``figures/<category>/{curves.png,samples}``."""
    folder = figures_dir(run_dir) / _safe(category)
    return folder / "curves.png", folder / "samples"


def overlay_name(order: int, defect: str, file: str | Path) -> str:
    """File name of a sample overlay: ``<order>_<defect>_<image stem>.png`` (order keeps the choice order)."""
    return f"{order:02d}_{_safe(defect)}_{_safe(Path(file).stem)}.png"


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in str(name)) or "_"


def write_category_figures(
    run_dir: str | Path,
    category: str,
    curves: Mapping[str, Curve],
    samples: Sequence[tuple[ImageResult, Any, Any | None]] = (),
    threshold: float = 0.5,
) -> list[Path]:
    """Write a category's curve PNG and sample overlays below ``<run dir>/figures/<category>/``.

    Args:
        run_dir: The run folder.
        category: Category name (also the figure title).
        curves: ``AnomalyMetrics.curves()`` of the category (no curve PNG when empty).
        samples: (result, anomaly map (H, W), mask (H, W) or None) of the chosen images, in the
            order of ``choose_samples``.
        threshold: Outline threshold of the overlays.

    Returns:
        The files written.
    """
    curve_png, sample_dir = category_figure_paths(run_dir, category)
    written = []
    if curves:
        draw_curves(curve_png, curves, title=category)
        written.append(curve_png)
    for order, (result, anomaly_map, mask) in enumerate(samples):
        name = overlay_name(order, result.defect, result.file)
        written.append(save_overlay(sample_dir / name, result.file, anomaly_map, threshold, mask))
    return written
