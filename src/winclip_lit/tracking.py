"""Experiment tracking: one place that builds the logger (W&B online/offline, CSV, none) and sends it
the run's config, per-category and mean metrics, result tables, sample maps and throughput."""

from __future__ import annotations

import netrc
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlparse

from winclip_lit.lit_module import Sample
from winclip_lit.run.context import RunContext, console
from winclip_lit.run.tables import METRIC_LABELS
from winclip_lit.run.visualize import panel


class Tracker:
    """No-op tracker; the base of the others. Use as a context manager: it finishes the run on exit,
    marking it failed when an exception escapes."""

    def log_config(self, config: Mapping[str, Any]) -> None:
        """Record the resolved config."""

    def log_category(
        self,
        category: str,
        metrics: Mapping[str, float | None],
        throughput: float,
        samples: Sequence[Sample],
        references: Sequence[str],
    ) -> None:
        """Record one category's metrics, throughput (images/s), sample maps and reference files."""

    def log_summary(
        self, results: Mapping[str, Mapping[str, float | None]], mean: Mapping[str, float | None]
    ) -> None:
        """Record the mean metrics and the per-category results table."""

    def finish(self, failed: bool) -> None:
        """Close the run."""

    def __enter__(self) -> Tracker:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.finish(failed=kind is not None)


def _numbers(prefix: str, metrics: Mapping[str, float | None]) -> dict[str, float]:
    return {f"{prefix}/{key}": value for key, value in metrics.items() if value is not None}


class CsvTracker(Tracker):
    """Lightning's CSVLogger: one row per category (step = category index) and the mean, in
    ``<run dir>/csv/metrics.csv``; the config in ``hparams.yaml`` beside it."""

    def __init__(self, run: RunContext) -> None:
        from lightning.pytorch.loggers import CSVLogger

        self.logger = CSVLogger(str(run.output_dir), name="csv", version="")
        self.step = 0

    def log_config(self, config: Mapping[str, Any]) -> None:
        self.logger.log_hyperparams(dict(config))

    def log_category(
        self,
        category: str,
        metrics: Mapping[str, float | None],
        throughput: float,
        samples: Sequence[Sample],
        references: Sequence[str],
    ) -> None:
        self.logger.log_metrics(
            {**_numbers(category, metrics), f"{category}/images_per_s": throughput}, self.step
        )
        self.step += 1

    def log_summary(
        self, results: Mapping[str, Mapping[str, float | None]], mean: Mapping[str, float | None]
    ) -> None:
        self.logger.log_metrics(_numbers("mean", mean), self.step)

    def finish(self, failed: bool) -> None:
        self.logger.finalize("failed" if failed else "success")


def wandb_logged_in() -> bool:
    """Whether W&B credentials exist (API key in the environment or ~/.netrc); no network access."""
    if os.environ.get("WANDB_API_KEY") or os.environ.get("WANDB_IDENTITY_TOKEN_FILE"):
        return True
    host = urlparse(os.environ.get("WANDB_BASE_URL", "https://api.wandb.ai")).hostname
    try:
        return netrc.netrc().authenticators(host) is not None
    except (OSError, netrc.NetrcParseError):
        return False


def wandb_mode(requested: str) -> tuple[str, str | None]:
    """The W&B mode to use and, when falling back to offline, the one-line notice to print."""
    forced = os.environ.get("WANDB_MODE")
    if forced:
        return forced, None
    if requested != "auto":
        return requested, None
    if wandb_logged_in():
        return "online", None
    return "offline", "W&B: not logged in, logging offline; upload later with `wandb sync {dir}`"


class WandbTracker(Tracker):
    """A W&B run per job; the jobs of one sweep share a group.

    Args:
        settings: The ``logger`` config group (project, entity, mode, tags, num_images).
        run: The job's context (output folder, sweep group, name).
        threshold: Outline threshold of the sample pictures.
    """

    def __init__(self, settings: Mapping[str, Any], run: RunContext, threshold: float) -> None:
        import wandb

        mode, notice = wandb_mode(str(settings.get("mode", "auto")))
        self.wandb = wandb
        self.threshold = threshold
        init = {
            "project": settings.get("project"),
            "entity": settings.get("entity"),
            "group": run.group,
            "name": run.name,
            "job_type": run.job_name,
            "tags": list(settings.get("tags") or []),
            "dir": str(run.output_dir),
            "reinit": "create_new",
            # W&B's own console summary is replaced by the one-line notices below.
            "settings": wandb.Settings(silent=True),
        }
        try:
            self.run = wandb.init(**init, mode=mode)
        except Exception as error:  # any failure to reach W&B: keep the run, go offline
            if mode != "online":
                raise
            self.run = wandb.init(**init, mode="offline")
            notice = f"W&B: online start failed ({type(error).__name__}), logging offline; upload later with `wandb sync {{dir}}`"
        if notice:
            console.print(notice.format(dir=Path(self.run.dir).parent if self.run.dir else run.output_dir))
        elif mode == "online":
            console.print(f"W&B run: {self.run.url}")

    def log_config(self, config: Mapping[str, Any]) -> None:
        self.run.config.update(dict(config), allow_val_change=True)

    def log_category(
        self,
        category: str,
        metrics: Mapping[str, float | None],
        throughput: float,
        samples: Sequence[Sample],
        references: Sequence[str],
    ) -> None:
        images = [
            self.wandb.Image(
                panel(s.image_path, s.anomaly_map.numpy(), self.threshold, s.mask.numpy()),
                caption=f"{Path(s.image_path).name} label={s.label} score={s.score:.3f}",
            )
            for s in samples
        ]
        data: dict[str, Any] = {**_numbers(category, metrics), f"{category}/images_per_s": throughput}
        if images:
            data[f"{category}/samples"] = images
        self.run.log(data)
        self.run.summary[f"{category}/references"] = list(references)

    def log_summary(
        self, results: Mapping[str, Mapping[str, float | None]], mean: Mapping[str, float | None]
    ) -> None:
        keys = list(mean)
        table = self.wandb.Table(columns=["category", *(METRIC_LABELS.get(k, k) for k in keys)])
        for name, row in {**results, "mean": mean}.items():
            table.add_data(name, *(None if row.get(k) is None else 100.0 * row[k] for k in keys))
        self.run.log({"results": table, **_numbers("mean", mean)})
        self.run.summary.update(_numbers("mean", mean))

    def finish(self, failed: bool) -> None:
        self.run.finish(exit_code=1 if failed else 0)


def start_tracker(settings: Mapping[str, Any], run: RunContext, threshold: float = 0.5) -> Tracker:
    """The tracker that the ``logger`` group selects (``wandb``, ``csv`` or ``none``)."""
    name = settings.get("name", "none")
    if name == "wandb":
        return WandbTracker(settings, run, threshold)
    if name == "csv":
        return CsvTracker(run)
    return Tracker()
