"""Dashboard panels: Lightning callbacks listed in ``dashboard.panels`` (conf/config.yaml), each written
once against :class:`~winclip_lit.loggers.view.View` and shown by every logger in its idiom.

A panel reacts to ``on_test_end`` (one per category: the module exposes the category's name in
``category_inputs``, its metrics and curves in ``metrics``, per-image rows in ``images`` and chosen samples in
``samples``) through :meth:`Panel.show_category`, and to the end of the run (per-category results, mean,
config) through :meth:`Panel.show_run`. Only rank 0 shows anything.

Examples:
    A panel of one's own, switched on with one config line
    (``+dashboard.panels.worst._target_=my_panels.WorstImages``)::

        class WorstImages(Panel):
            def show_category(self, category, module):
                worst = sorted(module.images, key=lambda r: -r.score)[:5]
                self.show("table", f"{category}/worst", ["file", "score"], [[r.file, r.score] for r in worst])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lightning.pytorch.callbacks import Callback

from winclip_lit.loggers.view import View
from winclip_lit.metrics.thresholds import outline_threshold
from winclip_lit.samples import IMAGE_TABLE_COLUMNS, image_rows, sample_indices

RESULT_FILES = ("metrics.json", "metrics.md", "metrics.csv")
"""The run's result files, sent as the results artifact."""


@dataclass
class RunSummary:
    """What the run-end panels see.

    Attributes:
        results: Category -> metric key -> fraction (None when undefined).
        mean: Metric key -> mean over the categories.
        keys: The metric keys of the run, in order.
        config: The resolved config.
        output_dir: The run folder.
        name: The run's name (a sweep job's overrides).
    """

    results: Mapping[str, Mapping[str, float | None]]
    mean: Mapping[str, float | None]
    keys: Sequence[str]
    config: Mapping[str, Any] = field(default_factory=dict)
    output_dir: Path = Path(".")
    name: str = ""


class Panel(Callback):
    """A dashboard panel; :class:`~winclip_lit.callbacks.dashboard.Dashboard` gives it its ``views``."""

    views: Sequence[View] = ()

    def show(self, kind: str, *args: Any) -> None:
        """Call ``View.<kind>(*args)`` on every view (``show("table", key, columns, rows)``)."""
        for view in self.views:
            getattr(view, kind)(*args)

    def on_test_end(self, trainer: Any, pl_module: Any) -> None:
        """After a category's test loop (its metrics computed and gathered): show it on rank 0."""
        if trainer.is_global_zero and self.views and pl_module.category_inputs is not None:
            self.show_category(pl_module.category_inputs.name, pl_module)

    def show_category(self, category: str, module: Any) -> None:
        """Show what the module holds of the category it just tested."""

    def show_run(self, run: RunSummary) -> None:
        """Show what the finished run holds."""


def choose_indices(records: Sequence[Any], n: int) -> set[int]:
    """Dataset indices of the ``n`` images shown for a category, spread over normal images and defects."""
    files = [str(r.image) for r in records]
    return set(sample_indices(files, [str(r.defect) for r in records], [int(r.label) for r in records], n))


class CurvesPanel(Panel):
    """Image/pixel ROC and PR curves and the PRO curve of each category.

    Args:
        max_points: Points per curve at most.
    """

    def __init__(self, max_points: int = 1000) -> None:
        self.max_points = int(max_points)

    def show_category(self, category: str, module: Any) -> None:
        """The category's curves."""
        curves = module.metrics.curves(max_points=self.max_points)
        if curves:
            self.show("curves", category, curves)


class SamplesPanel(Panel):
    """Overlays (image | map | ground truth) of ``num_images`` test images per category, spread over the
    normal images and every defect type; it asks the module to keep those images' maps.

    Args:
        num_images: Test images per category (0: none).
        threshold: Anomaly probability at or above which the overlays outline (and W&B masks) a pixel;
            None: the category's calibrated pixel threshold (``threshold=conformal|f1``), else 0.5.
    """

    def __init__(self, num_images: int = 8, threshold: float | None = None) -> None:
        self.num_images = int(num_images)
        self.threshold = None if threshold is None else float(threshold)

    def on_test_start(self, trainer: Any, pl_module: Any) -> None:
        """Choose the category's samples (every rank, so DDP ranks keep their share)."""
        pl_module.num_samples = self.num_images
        records = trainer.datamodule.test_records(pl_module.category_inputs.name) if self.num_images else []
        pl_module.sample_indices = choose_indices(records, self.num_images)

    def show_category(self, category: str, module: Any) -> None:
        """The chosen samples' overlays."""
        by_file = {result.file: result for result in module.images}
        samples = [
            (by_file[s.image_path], s.anomaly_map.numpy(), s.mask.numpy() if s.label else None)
            for s in module.samples
            if s.image_path in by_file
        ]
        if samples:
            outline = outline_threshold(getattr(module, "thresholds", None), self.threshold)
            self.show("samples", category, samples, outline)


class ImageTablePanel(Panel):
    """``<category>/images``: file, defect type, label, image score and map maximum of every test image."""

    def show_category(self, category: str, module: Any) -> None:
        """The category's per-image table."""
        self.show("table", f"{category}/images", IMAGE_TABLE_COLUMNS, image_rows(module.images))


class ScoresPanel(Panel):
    """Image scores of normal vs defective images per category (histogram; image PR curve)."""

    def show_category(self, category: str, module: Any) -> None:
        """The category's image scores."""
        if module.images:
            self.show("scores", category, list(module.images))


class ResultsPanel(Panel):
    """The run's results: table (percent), per-category bars and ``metrics.json/.md/.csv`` as artifacts."""

    def show_run(self, run: RunSummary) -> None:
        """Results table, bars and artifact."""
        from winclip_lit.reporting.tables import METRIC_LABELS

        columns = ["category", *(METRIC_LABELS.get(k, k) for k in run.keys)]
        rows = [
            [name, *(None if row.get(k) is None else 100.0 * row[k] for k in run.keys)]
            for name, row in {**run.results, "mean": run.mean}.items()
        ]
        self.show("table", "results", columns, rows)
        if run.results:
            self.show("bars", run.results, run.keys)
        name = f"metrics-{run.name or run.output_dir.name}"
        name = name.replace("/", "_").replace("=", "-").replace(",", "_")[:120]
        self.show("artifacts", name, "results", [run.output_dir / f for f in RESULT_FILES])


class ConfigPanel(Panel):
    """``config``: the resolved config as YAML in a Markdown code block."""

    def show_run(self, run: RunSummary) -> None:
        """The config text."""
        import yaml

        text = yaml.safe_dump(dict(run.config), sort_keys=False, default_flow_style=False)
        self.show("text", "config", "\n".join("    " + line for line in text.splitlines()))


class HParamsPanel(Panel):
    """The run's result-defining keys (``winclip_lit.config.keys``) with its ``mean/<metric>`` values, so the
    jobs of a sweep compare side by side (TensorBoard's HParams view)."""

    def show_run(self, run: RunSummary) -> None:
        """The hyper-parameters and metrics."""
        from winclip_lit.config.keys import flatten, result_keys_of

        params = result_keys_of(flatten(run.config))
        metrics = {f"mean/{k}": float(v) for k, v in run.mean.items() if v is not None}
        if params and metrics:
            self.show("hparams", params, metrics)
