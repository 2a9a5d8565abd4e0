"""Tracking: W&B offline (never the network) with metrics, tables, images and finish on failure; CSV."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import torch
import wandb
from PIL import Image

from winclip_lit.lit_module import Sample
from winclip_lit.run.context import RunContext
from winclip_lit.tracking import CsvTracker, Tracker, start_tracker, wandb_mode

METRICS = {"image_auroc": 0.75, "pixel_auroc": 0.5}


def sample(tmp_path: Path) -> Sample:
    image = tmp_path / "img.png"
    Image.new("RGB", (16, 16), (120, 30, 30)).save(image)
    return Sample(str(image), torch.linspace(0, 1, 64).view(8, 8), torch.eye(8, dtype=torch.uint8), 1, 0.8)


def test_wandb_mode_falls_back_to_offline_without_credentials(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("WANDB_MODE", raising=False)
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    monkeypatch.setenv("HOME", str(tmp_path))
    mode, notice = wandb_mode("auto")
    assert mode == "offline" and "wandb sync" in notice
    monkeypatch.setenv("WANDB_API_KEY", "x" * 40)
    assert wandb_mode("auto") == ("online", None)
    monkeypatch.setenv("WANDB_MODE", "disabled")
    assert wandb_mode("online") == ("disabled", None)


def test_wandb_offline_run_logs_and_finishes_on_failure(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    settings = {"name": "wandb", "project": "winclip-test", "mode": "auto", "num_images": 1}
    run = RunContext(tmp_path, "evaluate", group="evaluate-sweep", name="shot=1")
    with pytest.raises(RuntimeError, match="job failed"), start_tracker(settings, run) as tracker:
        tracker.log_config({"shot": {"k": 1}})
        tracker.log_category("bottle", METRICS, 12.5, [sample(tmp_path)], ["bottle/train/good/000.png"])
        tracker.log_summary({"bottle": METRICS}, METRICS)
        wandb_run = tracker.run
        assert wandb_run.group == "evaluate-sweep" and wandb_run.name == "shot=1"
        assert wandb_run.config["shot"] == {"k": 1}
        assert wandb_run.summary["bottle/references"] == ["bottle/train/good/000.png"]
        assert wandb_run.summary["mean/image_auroc"] == 0.75
        raise RuntimeError("job failed")
    assert wandb.run is None  # finished although the job failed
    offline = list((tmp_path / "wandb").glob("offline-run-*"))
    assert len(offline) == 1 and list(offline[0].glob("*.wandb"))
    assert list(offline[0].rglob("*.png"))  # the sample picture


def test_csv_tracker_writes_per_category_and_mean_rows(tmp_path: Path) -> None:
    with CsvTracker(RunContext(tmp_path, "evaluate")) as tracker:
        tracker.log_config({"shot": {"k": 0}})
        tracker.log_category("bottle", METRICS, 10.0, [], [])
        tracker.log_summary({"bottle": METRICS}, METRICS)
    with (tmp_path / "csv" / "metrics.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert float(rows[0]["bottle/image_auroc"]) == 0.75 and float(rows[0]["bottle/images_per_s"]) == 10.0
    assert float(rows[1]["mean/pixel_auroc"]) == 0.5


def test_none_logger_is_a_no_op(tmp_path: Path) -> None:
    assert type(start_tracker({"name": "none"}, RunContext(tmp_path, "evaluate"))) is Tracker
