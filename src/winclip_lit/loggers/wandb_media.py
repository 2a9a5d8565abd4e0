"""W&B payloads of the dashboards: curve line charts, the per-image table, interactive mask overlays and
per-category metric bar charts. Pure builders: they return W&B objects to pass to ``run.log``;
``wandb`` is imported when one is built, never at import time.

Needs wandb >= 0.19.10 for the project as a whole (``reinit="create_new"``); the APIs used here
(``wandb.Table``, ``wandb.plot.line`` with ``stroke``, ``wandb.plot.bar``, ``wandb.Image`` with
``masks``) are older.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from winclip_lit.metrics.curves import Curve
from winclip_lit.reporting.tables import METRIC_LABELS
from winclip_lit.samples import IMAGE_TABLE_COLUMNS, ImageResult, image_rows

MASK_CLASSES = {0: "normal", 1: "anomalous"}
"""Class labels of the prediction and ground-truth masks of the sample overlays."""

CHARTS = {"roc": ("image_roc", "pixel_roc"), "pr": ("image_pr", "pixel_pr"), "pro": ("pixel_pro",)}
"""Line charts per category (key suffix -> curves drawn in it)."""


def curve_table(curves: Mapping[str, Curve], keys: Sequence[str]) -> Any:
    """A ``wandb.Table`` with the points of several curves: columns x label, y label, ``curve``.

    The ``curve`` column names the curve and its area in percent (``"pixel ROC, AUROC 93.1"``), so a
    line chart draws one line per curve. Curves are drawn point by point in their order.
    """
    import wandb

    from winclip_lit.reporting.figures import curve_label

    present = [k for k in keys if k in curves]
    if not present:
        raise ValueError(f"none of the curves {list(keys)} is present (have {list(curves)})")
    first = curves[present[0]]
    rows = []
    for key in present:
        curve = curves[key]
        label = curve_label(key, curve)
        rows += [[float(x), float(y), label] for x, y in zip(curve.x, curve.y, strict=True)]
    return wandb.Table(columns=[first.x_label, first.y_label, "curve"], data=rows)


def curve_charts(category: str, curves: Mapping[str, Curve]) -> dict[str, Any]:
    """Line charts of one category: ``<category>/roc`` (image + pixel), ``<category>/pr``, ``<category>/pro``.

    Args:
        category: Category name (key prefix and chart title).
        curves: ``AnomalyMetrics.curves()`` of the category (at most ~1,000 points each).

    Returns:
        ``{log key: wandb.plot.line chart}``; charts without any curve are left out.
    """
    import wandb

    charts = {}
    for name, keys in CHARTS.items():
        if not any(k in curves for k in keys):
            continue
        table = curve_table(curves, keys)
        x, y = table.columns[:2]
        title = f"{category}: {name.upper() if name != 'pro' else 'PRO'}"
        charts[f"{category}/{name}"] = wandb.plot.line(table, x, y, stroke="curve", title=title)
    return charts


def image_table(results: Sequence[ImageResult]) -> Any:
    """The per-image ``wandb.Table``: file, defect type, label, image score, map maximum."""
    import wandb

    return wandb.Table(columns=list(IMAGE_TABLE_COLUMNS), data=image_rows(results))


def overlay_image(
    image_path: str | Path,
    anomaly_map: Any,
    threshold: float,
    mask: Any | None = None,
    caption: str | None = None,
    alpha: float = 0.5,
) -> Any:
    """An interactive ``wandb.Image``: the image under the map's heat colours, with toggleable masks.

    Masks: ``prediction`` (map >= ``threshold``) and, when given, ``ground_truth``, both with the
    classes ``MASK_CLASSES``.

    Args:
        image_path: The test image (shown at the map's size).
        anomaly_map: (H, W) anomaly probabilities in [0, 1] (tensor or array).
        threshold: Probability at or above which a pixel is predicted anomalous.
        mask: Optional (H, W) ground truth in {0, 1}.
        caption: Caption under the image.
        alpha: Weight of the heat colours.
    """
    import wandb
    from PIL import Image

    from winclip_lit.reporting.overlays import heat

    values = _numpy(anomaly_map).astype(np.float32)
    height, width = values.shape
    with Image.open(image_path) as source:
        image = np.asarray(source.convert("RGB").resize((width, height), Image.Resampling.BICUBIC))
    shown = ((1.0 - alpha) * image + alpha * heat(values)).astype(np.uint8)
    masks = {
        "prediction": {"mask_data": (values >= threshold).astype(np.uint8), "class_labels": MASK_CLASSES}
    }
    if mask is not None:
        truth = _numpy(mask).astype(bool).astype(np.uint8)
        masks["ground_truth"] = {"mask_data": truth, "class_labels": MASK_CLASSES}
    return wandb.Image(shown, masks=masks, caption=caption)


def sample_images(samples: Sequence[tuple[ImageResult, Any, Any | None]], threshold: float) -> list[Any]:
    """Overlays of the chosen samples (result, map, mask), captioned with file, defect, label and score."""
    return [
        overlay_image(
            result.file,
            anomaly_map,
            threshold,
            mask,
            caption=f"{Path(result.file).name} {result.defect} label={result.label} score={result.score:.3f}",
        )
        for result, anomaly_map, mask in samples
    ]


def metric_bar_charts(
    results: Mapping[str, Mapping[str, float | None]], keys: Sequence[str]
) -> dict[str, Any]:
    """One ``wandb.plot.bar`` per metric over the categories (percent), keyed ``metrics/<metric>``.

    Args:
        results: Category (or ``"mean"``) -> metric key -> fraction; None or NaN values are left out.
        keys: The metrics to chart.
    """
    import wandb

    charts = {}
    for key in keys:
        label = METRIC_LABELS.get(key, key)
        rows = [
            [name, 100.0 * float(row[key])]
            for name, row in results.items()
            if row.get(key) is not None and not np.isnan(row[key])
        ]
        table = wandb.Table(columns=["category", label], data=rows)
        charts[f"metrics/{key}"] = wandb.plot.bar(table, "category", label, title=f"{label} per category")
    return charts


def _numpy(value: Any) -> np.ndarray:
    return value.detach().cpu().numpy() if hasattr(value, "detach") else np.asarray(value)
