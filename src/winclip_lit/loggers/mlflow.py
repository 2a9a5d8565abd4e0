"""The dashboard in MLflow: figures as image artifacts (``mlflow.log_figure``), tables as MLflow tables,
the config as text, ``metrics.json/.md/.csv`` as artifacts; where a run's file store is and what its
experiment and run are called (a sweep's jobs are runs of one experiment named after the sweep)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from winclip_lit.engine.context import RunContext
from winclip_lit.loggers.view import SampleTriple, View
from winclip_lit.metrics.curves import Curve
from winclip_lit.samples import ImageResult

DEFAULT_EXPERIMENT = "winclip-lit"
"""Experiment of single runs when ``logger.mlflow.experiment_name`` is null."""

LOGGED_ARTIFACTS_TAG = "mlflow.loggedArtifacts"
"""Run tag through which MLflow's UI lists a run's tables (what ``MlflowClient.log_table`` sets)."""


def mlflow_arguments(spec: Mapping[str, Any], run: RunContext) -> dict[str, Any]:
    """Arguments the run fills in for an MLflow logger: a local file store (``<run dir>/mlruns``, a sweep's
    ``<sweep dir>/mlruns``) unless a tracking URI is set, the experiment (the sweep's name in a sweep) and
    the run name, each unless the config sets it."""
    extra: dict[str, Any] = {}
    if not spec.get("tracking_uri"):
        store = (run.output_dir.parent if run.multirun else run.output_dir) / "mlruns"
        extra["tracking_uri"] = store.resolve().as_uri()
    if not spec.get("experiment_name"):
        extra["experiment_name"] = (run.group if run.multirun and run.group else None) or DEFAULT_EXPERIMENT
    if not spec.get("run_name") and run.name:
        extra["run_name"] = run.name
    return extra


class MlflowView(View):
    """Shows the panels as artifacts of the MLflow run of a Lightning ``MLFlowLogger``."""

    def __init__(self, logger: Any) -> None:
        self.client = logger.experiment
        self.run_id = logger.run_id

    def _figure(self, figure: Any, artifact_file: str) -> None:
        self.client.log_figure(self.run_id, figure, artifact_file)

    def curves(self, category: str, curves: Mapping[str, Curve]) -> None:
        """``figures/<category>/curves.png``."""
        from winclip_lit.reporting.figures import curves_figure

        self._figure(curves_figure(curves, title=category)[0], f"figures/{category}/curves.png")

    def samples(self, category: str, samples: Sequence[SampleTriple], threshold: float) -> None:
        """``figures/<category>/samples/<nn>_<defect>_<stem>.png``, titled with defect type and score."""
        from winclip_lit.reporting.figures import overlay_name, sample_figure

        for order, (result, anomaly_map, mask) in enumerate(samples):
            name = overlay_name(order, result.defect, result.file)
            self._figure(
                sample_figure(result, anomaly_map, threshold, mask), f"figures/{category}/samples/{name}"
            )

    def scores(self, category: str, images: Sequence[ImageResult]) -> None:
        """``figures/<category>/scores.png``: histogram of normal vs defective image scores."""
        from winclip_lit.reporting.figures import scores_figure

        self._figure(scores_figure(images, title=category)[0], f"figures/{category}/scores.png")

    def table(self, key: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """``tables/<key>.json`` in MLflow's table format, listed by the UI (as ``log_table`` does)."""
        artifact_file = f"tables/{key}.json"
        self.client.log_dict(
            self.run_id, {"columns": list(columns), "data": [list(row) for row in rows]}, artifact_file
        )
        tags = self.client.get_run(self.run_id).data.tags
        listed = json.loads(tags.get(LOGGED_ARTIFACTS_TAG, "[]"))
        entry = {"path": artifact_file, "type": "table"}
        if entry not in listed:
            self.client.set_tag(self.run_id, LOGGED_ARTIFACTS_TAG, json.dumps([*listed, entry]))

    def bars(self, results: Mapping[str, Mapping[str, float | None]], keys: Sequence[str]) -> None:
        """``figures/metrics.png``."""
        from winclip_lit.reporting.figures import bars_figure

        self._figure(bars_figure(results, keys)[0], "figures/metrics.png")

    def text(self, key: str, markdown: str) -> None:
        """``<key>.md``."""
        self.client.log_text(self.run_id, markdown, f"{key}.md")

    def artifacts(self, name: str, kind: str, files: Sequence[Path]) -> None:
        """The existing ``files`` at the top of the run's artifacts."""
        for path in files:
            if Path(path).is_file():
                self.client.log_artifact(self.run_id, str(path))
