"""The dashboard as Lightning callbacks switched on in YAML (``dashboard.panels``): a toy panel added by
one config line reaches the CSV logger, a panel set to null is off, bad panel configs are one line."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from run_support import make_config

from winclip_lit.callbacks.dashboard import build_dashboard
from winclip_lit.callbacks.panels import CurvesPanel, SamplesPanel
from winclip_lit.config.errors import ConfigError
from winclip_lit.engine.context import RunContext


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_panels_read_their_arguments_from_the_dashboard_node(tmp_path: Path) -> None:
    cfg = make_config("dashboard.num_images=3", "dashboard.max_curve_points=50", "logger=none")
    dashboard = build_dashboard(cfg.dashboard, RunContext(tmp_path, "evaluate"), [])
    (samples,) = [p for p in dashboard.panels if isinstance(p, SamplesPanel)]
    (curves,) = [p for p in dashboard.panels if isinstance(p, CurvesPanel)]
    # threshold null: the category's calibrated pixel threshold, else 0.5 (docs/thresholds.md)
    assert (samples.num_images, samples.threshold, curves.max_points) == (3, None, 50)
    custom = make_config("dashboard.panels.samples.threshold=0.3", "logger=none")
    (chosen,) = [
        p
        for p in build_dashboard(custom.dashboard, RunContext(tmp_path, "evaluate"), []).panels
        if isinstance(p, SamplesPanel)
    ]
    assert chosen.threshold == 0.3
    names = [type(p).__name__ for p in dashboard.callbacks]
    assert names == [
        "CurvesPanel",
        "SamplesPanel",
        "ImageTablePanel",
        "ScoresPanel",
        "ResultsPanel",
        "ConfigPanel",
        "HParamsPanel",
    ]
    off = build_dashboard(
        make_config("dashboard.panels.samples=null").dashboard, RunContext(tmp_path, "evaluate"), []
    )
    assert not [p for p in off.panels if isinstance(p, SamplesPanel)]


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("+dashboard.panels.bad.count=2", r"^dashboard.panels.bad has no _target_"),
        (
            "+dashboard.panels.bad._target_=no.such.Panel",
            r"^dashboard.panels.bad \(no.such.Panel\) cannot be built",
        ),
        ("+dashboard.panels.bad._target_=collections.OrderedDict", r"is not a Lightning Callback"),
    ],
)
def test_a_bad_panel_config_is_one_line(tmp_path: Path, override: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        build_dashboard(make_config(override).dashboard, RunContext(tmp_path, "evaluate"), [])


@pytest.mark.slow
def test_a_toy_panel_from_the_config_reaches_the_csv_logger(
    tmp_path: Path, mvtec_args: list[str], data_dir: Path
) -> None:
    """One config line adds a panel; the CSV logger shows its table and the per-image rows beside
    Lightning's metrics.csv; ``dashboard.panels.samples=null`` leaves the overlays out."""
    from winclip_lit.tasks.evaluate import evaluate

    args = [a for a in mvtec_args if not a.startswith("logger=")]
    cfg = make_config(
        *args,
        "shot=1",
        "logger=csv",
        "+dashboard.panels.top._target_=dashboard_toy.TopScores",
        "+dashboard.panels.top.count=2",
        "dashboard.panels.samples=null",
    )
    evaluate(cfg, RunContext(tmp_path, "evaluate", name="toy"))
    for category in ("bottle", "metal_nut"):
        images = _rows(tmp_path / "csv" / f"{category}-images.csv")
        tests = sorted((data_dir / "mvtec_anomaly_detection" / category / "test").rglob("*.png"))
        assert sorted(Path(r["file"]).name for r in images) == sorted(p.name for p in tests)
        assert {int(r["label"]) for r in images} == {0, 1}
        highest = sorted(images, key=lambda r: -float(r["image_score"]))[:2]  # a naive ranking
        top = _rows(tmp_path / "csv" / f"{category}-top.csv")
        assert [r["file"] for r in top] == [r["file"] for r in highest]
        assert (tmp_path / "figures" / category / "curves.png").is_file()
        assert not (tmp_path / "figures" / category / "samples").exists()
    results = _rows(tmp_path / "csv" / "results.csv")
    assert [r["category"] for r in results] == ["bottle", "metal_nut", "mean"]
    assert (tmp_path / "csv" / "metrics.csv").is_file()


@pytest.mark.slow
def test_panels_under_two_process_ddp_show_what_one_process_shows(
    tmp_path: Path, mvtec_args: list[str], data_dir: Path
) -> None:
    """``trainer=ddp trainer.devices=2`` through the command: rank 0 shows every test image once (the
    per-image table, the samples, the score files), as a one-process run does."""
    from run_support import run_cli

    args = [a for a in mvtec_args if not a.startswith(("logger=", "dataset.categories="))]
    common = [*args, "dataset.categories=[bottle]", "shot=1", "logger=csv", "loader.batch_size=2"]
    one, two = tmp_path / "one", tmp_path / "two"
    run_cli(tmp_path, "evaluate.py", *common, f"hydra.run.dir={one}")
    run_cli(
        tmp_path,
        "evaluate.py",
        *common,
        "trainer=ddp",
        "trainer.accelerator=cpu",
        "trainer.devices=2",
        f"hydra.run.dir={two}",
    )
    tests = sorted((data_dir / "mvtec_anomaly_detection" / "bottle" / "test").rglob("*.png"))
    tables = {}
    for run in (one, two):
        rows = sorted(_rows(run / "csv" / "bottle-images.csv"), key=lambda r: r["file"])
        assert sorted(Path(r["file"]).name for r in rows) == sorted(p.name for p in tests)  # each once
        tables[run] = rows
        samples = sorted(p.name for p in (run / "figures" / "bottle" / "samples").iterdir())
        assert len(samples) == len(tests)
        tables[run, "samples"] = samples
        tables[run, "scores"] = sorted(_rows(run / "scores" / "bottle.csv"), key=lambda r: r["image"])
    assert tables[one, "samples"] == tables[two, "samples"]
    for a, b in zip(tables[one], tables[two], strict=True):
        assert a["file"] == b["file"] and a["label"] == b["label"]
        assert float(a["image_score"]) == pytest.approx(float(b["image_score"]), abs=1e-5)
    for a, b in zip(tables[one, "scores"], tables[two, "scores"], strict=True):
        assert a["image"] == b["image"]
        assert float(a["max_pixel_score"]) == pytest.approx(float(b["max_pixel_score"]), abs=1e-5)
    assert (two / ".ddp" / "job.yaml").is_file()  # rank 1 ran in a second process
    assert (two / "figures" / "bottle" / "curves.png").is_file()
    assert [r["category"] for r in _rows(two / "csv" / "results.csv")] == ["bottle", "mean"]
