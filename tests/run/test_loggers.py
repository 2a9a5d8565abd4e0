"""Lightning loggers from conf/logger (W&B offline, CSV, TensorBoard, MLflow, none, several at once);
metrics reach them through the module's ``self.log``; failed runs are marked failed."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest
import wandb
from run_support import make_config

from winclip_lit.config.errors import ConfigError
from winclip_lit.engine.context import RunContext
from winclip_lit.loggers.build import build_loggers, log_mean, logging_session, wandb_mode
from winclip_lit.metrics import METRIC_KEYS


def test_wandb_mode_falls_back_to_offline_without_credentials(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("WANDB_MODE", raising=False)
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    monkeypatch.setenv("HOME", str(tmp_path))
    assert wandb_mode("auto") == ("offline", "not logged in")
    monkeypatch.setenv("WANDB_API_KEY", "x" * 40)
    assert wandb_mode("auto") == ("online", None)
    monkeypatch.setenv("WANDB_MODE", "disabled")
    assert wandb_mode("online") == ("disabled", None)


@pytest.mark.slow
def test_wandb_offline_run_is_grouped_named_and_marked_failed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    run = RunContext(tmp_path, "evaluate", group="evaluate-sweep", name="shot=1")
    loggers = build_loggers(make_config("logger=wandb").logger, run)
    assert [type(logger).__name__ for logger in loggers] == ["WandbLogger"]
    with pytest.raises(RuntimeError, match="job failed"), logging_session(loggers):
        wandb_run = loggers[0].experiment
        assert wandb_run.group == "evaluate-sweep" and wandb_run.name == "shot=1"
        assert wandb_run.job_type == "evaluate"
        log_mean(loggers, {"image_auroc": 0.75, "pixel_auroc": None})
        assert wandb_run.summary["mean/image_auroc"] == 0.75
        raise RuntimeError("job failed")
    assert wandb.run is None  # finished although the job failed
    offline = list((tmp_path / "wandb").glob("offline-run-*"))
    assert len(offline) == 1 and list(offline[0].glob("*.wandb"))


def test_csv_tensorboard_mlflow_and_none(tmp_path: Path) -> None:
    run = RunContext(tmp_path, "evaluate", name="x")
    assert build_loggers(make_config("logger=none").logger, run) == []
    loggers = build_loggers(make_config("logger=[csv,tensorboard,mlflow]").logger, run)
    assert [type(logger).__name__ for logger in loggers] == ["CSVLogger", "TensorBoardLogger", "MLFlowLogger"]
    with logging_session(loggers):
        log_mean(loggers, {"image_auroc": 0.5})
    with (tmp_path / "csv" / "metrics.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert rows[-1]["mean/image_auroc"] == "0.5"
    assert list((tmp_path / "tensorboard").glob("events.out.tfevents.*"))
    assert list((tmp_path / "mlruns").rglob("mean/image_auroc")) or list((tmp_path / "mlruns").rglob("*"))


def test_each_run_in_one_process_logs_to_its_own_mlflow_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lightning's MLFlowLogger calls ``mlflow.set_tracking_uri``, which sets MLFLOW_TRACKING_URI in
    ``os.environ``; the second run of a notebook must still log to its own folder, not the first one's."""
    from mlflow.tracking import MlflowClient

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    for name in ("first", "second"):
        run = RunContext(tmp_path / name, "evaluate", name=name)
        (logger,) = build_loggers(make_config("logger=mlflow").logger, run)
        with logging_session([logger]):
            log_mean([logger], {"image_auroc": 0.5})
        assert "MLFLOW_TRACKING_URI" not in os.environ
    for name in ("first", "second"):
        client = MlflowClient(tracking_uri=(tmp_path / name / "mlruns").resolve().as_uri())
        runs = client.search_runs([client.get_experiment_by_name("winclip-lit").experiment_id])
        assert [r.info.run_name for r in runs] == [name]


def test_a_logger_yaml_without_target_is_one_line(tmp_path: Path) -> None:
    cfg = make_config()
    cfg.logger = {"mine": {"project": "x"}}
    with pytest.raises(ConfigError, match=r"^logger.mine has no _target_"):
        build_loggers(cfg.logger, RunContext(tmp_path, "evaluate"))


@pytest.mark.slow
def test_offline_wandb_run_holds_curves_overlays_table_and_artifacts(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, mvtec_args: list[str], data_dir: Path
) -> None:
    import json

    from winclip_lit.tasks.evaluate import evaluate

    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    args = [a for a in mvtec_args if not a.startswith("logger=")]
    evaluate(make_config(*args, "logger=wandb", "shot=1"), RunContext(tmp_path, "evaluate", name="shot=1"))
    (run_dir,) = list((tmp_path / "wandb").glob("offline-run-*"))
    media = run_dir / "files" / "media"
    for category in ("bottle", "metal_nut"):
        tests = sorted((data_dir / "mvtec_anomaly_detection" / category / "test").rglob("*.png"))
        (table,) = list((media / "table" / category).glob("images_*.table.json"))
        rows = json.loads(table.read_text())
        assert rows["columns"][:3] == ["file", "defect", "label"] and len(rows["data"]) == len(tests)
        assert sorted(Path(r[0]).name for r in rows["data"]) == sorted(p.name for p in tests)
        for curve in ("roc", "pr", "pro"):
            assert list((media / "table" / category).glob(f"{curve}_table_*.table.json")), (category, curve)
        samples = list((media / "images" / category).glob("samples_*.png"))
        defects = {p.parent.name for p in tests}
        assert len(samples) == min(8, len(tests)) and len(defects) >= 2
        assert list((media / "images" / "mask" / category).glob("samples_*.mask.png"))
    assert list(media.glob("table/results_*.table.json"))
    assert (tmp_path / "figures" / "metrics.png").is_file()
    assert (tmp_path / "figures" / "bottle" / "curves.png").is_file()


def test_figures_are_written_without_any_logger(tmp_path: Path, mvtec_args: list[str]) -> None:
    from winclip_lit.tasks.evaluate import evaluate

    evaluate(make_config(*mvtec_args, "shot=1"), RunContext(tmp_path, "evaluate"))
    figures = tmp_path / "figures"
    assert (figures / "metrics.png").is_file()
    for category in ("bottle", "metal_nut"):
        assert (figures / category / "curves.png").is_file()
        names = [p.name for p in (figures / category / "samples").glob("*.png")]
        assert any("_good_" in n for n in names) and any("_good_" not in n for n in names)


def test_results_artifact_holds_the_metrics_files(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from winclip_lit.files import write_text
    from winclip_lit.loggers.build import log_artifacts

    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    for name in ("metrics.json", "metrics.md"):
        write_text(tmp_path / name, name)
    loggers = build_loggers(make_config("logger=wandb").logger, RunContext(tmp_path, "evaluate", name="x"))
    with logging_session(loggers):
        files = [tmp_path / "metrics.json", tmp_path / "metrics.md", tmp_path / "metrics.csv"]  # csv missing
        (artifact,) = log_artifacts(loggers, "metrics-x", "results", files)
    assert artifact.type == "results" and sorted(artifact.manifest.entries) == ["metrics.json", "metrics.md"]
    assert log_artifacts([], "metrics-x", "results", files) == []


def test_trainer_test_returns_the_category_metrics(tmp_path: Path, mvtec_args: list[str]) -> None:
    """The module logs through Lightning: trainer.test returns <category>/<metric>, a CSV logger gets them."""
    from winclip_lit.engine.build import build_datamodule, build_metrics, build_model, build_trainer
    from winclip_lit.engine.category import category_inputs
    from winclip_lit.lit_module import WinCLIPModule

    cfg = make_config(*mvtec_args, "shot=1")
    model = build_model(cfg)
    datamodule = build_datamodule(cfg, model)
    loggers = build_loggers(make_config("logger=csv").logger, RunContext(tmp_path, "evaluate"))
    trainer = build_trainer(cfg.trainer, loggers=loggers)
    module = WinCLIPModule(model, build_metrics(cfg.metrics, pixel=True))
    datamodule.select("bottle")
    module.set_category(category_inputs("bottle", datamodule)[0])
    (returned,) = trainer.test(module, datamodule=datamodule, verbose=False)
    assert set(module.results) == set(METRIC_KEYS)  # headline metrics, operating points and mad
    assert set(returned) == {f"bottle/{key}" for key in module.results}
    for key, value in module.results.items():
        assert returned[f"bottle/{key}"] == pytest.approx(value, abs=1e-6)
    with logging_session(loggers):
        pass
    with (tmp_path / "csv" / "metrics.csv").open() as handle:
        row = next(csv.DictReader(handle))
    for key in ("image_auroc", "image_tpr_fpr5", "mad"):
        assert float(row[f"bottle/{key}"]) == pytest.approx(module.results[key], abs=1e-6)
