"""TensorBoard and MLflow users see the dashboard: a 4-job sweep (shot=0,1 x seed=0,1) with
``logger='[tensorboard,mlflow]'``, read back through the real TensorBoard server on the loopback address and
through MLflow's own client."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from run_support import TINY, read_metrics, run_cli

pytestmark = pytest.mark.slow

SAMPLE_COUNT = 7
"""Test images of the one category (3 normal, 2 of each of 2 defect types): all are drawn as samples."""


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Path:
    """``evaluate -m shot=0,1 seed=0,1 logger=[tensorboard,mlflow]`` on one synthetic MVTec-AD category."""
    tmp = tmp_path_factory.mktemp("dashboard")
    run_cli(
        tmp,
        "evaluate.py",
        "-m",
        "shot=0,1",
        "seed=0,1",
        *[a for a in TINY if not a.startswith("logger=")],
        "logger=[tensorboard,mlflow]",
        f"dataset.root={data_dir / 'mvtec_anomaly_detection'}",
        "dataset.categories=[bottle]",
        f"hydra.sweep.dir={tmp / 'sweep'}",
    )
    return tmp / "sweep"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str, body: dict | None = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def _poll(read: Callable[[], Any], done: Callable[[Any], bool], deadline: float) -> Any:
    """``read()`` until ``done`` holds for its answer or the deadline passes (then the last answer)."""
    answer = None
    while time.monotonic() < deadline:
        try:
            answer = read()
            if done(answer):
                return answer
        except OSError:  # the server is not listening yet
            pass
        time.sleep(0.5)
    return answer


def test_tensorboard_server_lists_images_text_histograms_pr_curves_and_hparams(sweep: Path) -> None:
    jobs = sorted(p for p in sweep.iterdir() if (p / "metrics.json").is_file())
    assert len(jobs) == 4
    for job in jobs:  # one event stream per run
        assert len(list((job / "tensorboard").glob("events.out.tfevents.*"))) == 1
    port = _free_port()
    binary = shutil.which("tensorboard")
    assert binary, "the tensorboard command is missing (pip install tensorboard)"
    server = subprocess.Popen(
        [binary, "--logdir", str(sweep), "--host", "127.0.0.1", "--port", str(port), "--load_fast=false"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}/data"
    try:
        deadline = time.monotonic() + 90
        runs = [f"{job.name}/tensorboard" for job in jobs]
        images = _poll(lambda: _get(f"{base}/plugin/images/tags"), lambda a: set(runs) <= set(a), deadline)
        text = _poll(lambda: _get(f"{base}/plugin/text/tags"), lambda a: set(runs) <= set(a), deadline)
        histograms = _poll(
            lambda: _get(f"{base}/plugin/histograms/tags"), lambda a: set(runs) <= set(a), deadline
        )
        pr_curves = _poll(
            lambda: _get(f"{base}/plugin/pr_curves/tags"), lambda a: set(runs) <= set(a), deadline
        )
        sessions = _poll(
            lambda: _get(
                f"{base}/plugin/hparams/session_groups",
                {
                    "experimentName": "",
                    "allowedStatuses": [
                        "STATUS_UNKNOWN",
                        "STATUS_SUCCESS",
                        "STATUS_FAILURE",
                        "STATUS_RUNNING",
                    ],
                    "colParams": [],
                    "startIndex": 0,
                    "sliceSize": 100,
                },
            ),
            lambda a: len(a.get("sessionGroups", [])) == len(runs),
            deadline,
        )
        assert set(runs) <= set(_get(f"{base}/runs"))
    finally:
        server.terminate()
        server.wait(timeout=20)
    for run in runs:
        tags = set(images[run])
        assert {"bottle/curves", "metrics/bars"} <= tags
        assert len([t for t in tags if t.startswith("bottle/samples/")]) == SAMPLE_COUNT
        assert {"bottle/images/text_summary", "results/text_summary", "config/text_summary"} <= set(text[run])
        assert {"bottle/scores/normal", "bottle/scores/defective"} <= set(histograms[run])
        assert "bottle/image_pr" in pr_curves[run]
    by_run = {group["name"]: group for group in sessions["sessionGroups"]}
    assert set(by_run) == set(runs)
    for job, run in zip(jobs, runs, strict=True):
        group = by_run[run]
        assert group["hparams"]["shot.k"] == read_metrics(job)["config"]["shot"]["k"]
        values = {m["name"]["tag"]: m["value"] for m in group["metricValues"]}
        mean = read_metrics(job)["mean"]
        assert values["mean/image_auroc"] == pytest.approx(mean["image_auroc"], abs=1e-6)


def test_mlflow_client_finds_the_sweeps_runs_params_and_artifacts(
    sweep: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlflow.tracking import MlflowClient

    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow 3 asks for an opt-in to file stores

    client = MlflowClient(tracking_uri=(sweep / "mlruns").resolve().as_uri())
    experiment = client.get_experiment_by_name("evaluate-sweep")
    assert experiment is not None, [e.name for e in client.search_experiments()]
    runs = client.search_runs([experiment.experiment_id])
    names = sorted(r.info.run_name.split(",")[-2:] for r in runs)  # the job names end in seed=...,shot=...
    assert names == [[f"seed={seed}", f"shot={shot}"] for seed in (0, 1) for shot in (0, 1)]
    for run in runs:
        assert run.data.params["shot/k"] == run.info.run_name.rsplit("=", 1)[1]
        assert run.data.params["seed"] == run.info.run_name.split(",")[-2].split("=")[1]
        job = next(p for p in sweep.iterdir() if p.name.endswith(run.info.run_name))
        mean = read_metrics(job)["mean"]
        assert run.data.metrics["mean/image_auroc"] == pytest.approx(mean["image_auroc"])

        def paths(folder: str | None = None, run_id: str = run.info.run_id) -> set[str]:
            return {a.path for a in client.list_artifacts(run_id, folder)}

        assert {"metrics.json", "metrics.md", "metrics.csv", "config.md", "figures", "tables"} <= paths()
        assert {"figures/metrics.png", "figures/bottle"} <= paths("figures")
        assert {"figures/bottle/curves.png", "figures/bottle/scores.png"} <= paths("figures/bottle")
        assert len(paths("figures/bottle/samples")) == SAMPLE_COUNT
        table = json.loads(
            Path(client.download_artifacts(run.info.run_id, "tables/bottle/images.json")).read_text()
        )
        assert table["columns"][:3] == ["file", "defect", "label"] and len(table["data"]) == SAMPLE_COUNT
        assert {"path": "tables/bottle/images.json", "type": "table"} in json.loads(
            run.data.tags["mlflow.loggedArtifacts"]
        )
