"""Nothing lost: one folder per run, earlier results kept, per-category results as they finish, resume,
atomic files, report and sweeps that survive a broken job."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from omegaconf import open_dict
from run_support import CATEGORIES, TINY, make_config, run_cli

from winclip_lit.config.errors import ConfigError
from winclip_lit.engine.context import RunContext
from winclip_lit.engine.outputs import claim_folder, guard_folder
from winclip_lit.files import append_line, write_text
from winclip_lit.tasks.evaluate import PARTIAL_FILE, evaluate
from winclip_lit.tasks.report import build_report


def hydra_cfg(tmp_path: Path, *overrides: str):
    cfg = make_config(*overrides, hydra=True)
    with open_dict(cfg):
        cfg.hydra.run.dir = str(tmp_path / "outputs" / "evaluate" / "2026-01-01_00-00-00")
    return cfg


def test_runs_started_in_the_same_second_get_their_own_folders(tmp_path: Path) -> None:
    first = guard_folder(hydra_cfg(tmp_path), "hydra.run.dir")
    second = guard_folder(hydra_cfg(tmp_path), "hydra.run.dir")
    assert first != second and first.is_dir() and second.is_dir()
    assert second.name == first.name + "_1"
    assert claim_folder(first) == first.with_name(first.name + "_2")


def test_an_explicit_folder_with_results_is_refused_unless_resuming(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    write_text(run_dir / "metrics.json", "{}")
    cfg = make_config(f"hydra.run.dir={run_dir}", hydra=True)
    with pytest.raises(ConfigError, match=r"already holds results \(metrics.json\).*resume=true"):
        guard_folder(cfg, "hydra.run.dir")
    assert (run_dir / "metrics.json").read_text() == "{}"
    resumed = make_config(f"hydra.run.dir={run_dir}", "resume=true", "hydra.job.name=evaluate", hydra=True)
    guard_folder(resumed, "hydra.run.dir")


def test_an_unwritable_output_folder_fails_before_the_run(tmp_path: Path) -> None:
    blocker = write_text(tmp_path / "file", "")
    cfg = make_config(f"hydra.run.dir={blocker / 'run'}", hydra=True)
    with pytest.raises(ConfigError, match=r"^hydra.run.dir=.* is not writable"):
        guard_folder(cfg, "hydra.run.dir")
    if os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o500)
        with pytest.raises(ConfigError, match="is not writable"):
            guard_folder(make_config(f"hydra.run.dir={locked}", hydra=True), "hydra.run.dir")


def test_append_line_and_atomic_writes_leave_no_temporary_files(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    append_line(path, "a")
    append_line(path, "b\n")
    assert path.read_text() == "a\nb\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log.jsonl"]


def test_finished_categories_survive_a_crash_and_resume_skips_them(
    data_dir: Path, tmp_path: Path, mvtec_args: list[str]
) -> None:
    root = tmp_path / "mvtec"
    import shutil

    shutil.copytree(data_dir / "mvtec_anomaly_detection", root)
    broken = sorted((root / CATEGORIES[1] / "test" / "good").iterdir())[0]
    saved = broken.read_bytes()
    broken.write_bytes(b"not an image")
    args = [a for a in mvtec_args if not a.startswith("dataset.root")] + [f"dataset.root={root}"]
    cfg = make_config(*args)
    run = RunContext(tmp_path / "run", "evaluate", name="x")
    (tmp_path / "run").mkdir()
    with pytest.raises(Exception, match="cannot read image file"):
        evaluate(cfg, run)
    lines = (tmp_path / "run" / PARTIAL_FILE).read_text().splitlines()
    assert [json.loads(line)["category"] for line in lines] == [CATEGORIES[0]]
    first = json.loads(lines[0])["metrics"]
    broken.write_bytes(saved)
    resumed = evaluate(make_config(*args, "resume=true"), run)
    assert resumed["categories"][CATEGORIES[0]] == first
    assert list(resumed["categories"]) == list(CATEGORIES)
    with pytest.raises(
        ConfigError, match=r"holds results of another config \(model.temperature: 0.07 -> 0.5\)"
    ):
        evaluate(make_config(*args, "resume=true", "model.temperature=0.5"), run)


def test_report_names_a_broken_job_and_reports_the_others(tmp_path: Path) -> None:
    config = json.loads(json.dumps(make_config("shot=1").__repr__() and {}))
    from omegaconf import OmegaConf

    config = OmegaConf.to_container(make_config("shot=1"), resolve=True)
    mean = {"image_auroc": 0.5}
    for job in ("0_a", "1_b"):
        write_text(tmp_path / job / "metrics.json", json.dumps({"mean": mean, "config": config}))
        (tmp_path / job / ".hydra").mkdir()
    write_text(tmp_path / "2_c" / "metrics.json", '{"mean": ')  # killed while writing (pre-atomic)
    (tmp_path / "3_d" / ".hydra").mkdir(parents=True)  # never finished
    header, rows = build_report(tmp_path)
    assert len(rows) == 1 and rows[0][1] == "0,0"


@pytest.mark.slow
def test_a_sweep_goes_on_after_a_failed_job_and_lists_it(data_dir: Path, tmp_path: Path) -> None:
    root = data_dir / "mvtec_anomaly_detection"
    sweep = tmp_path / "sweep"
    result = run_cli(
        tmp_path,
        "evaluate.py",
        "-m",
        *TINY,
        f"dataset.root={root}",
        "dataset.categories=[nonexistent],[bottle]",
        f"hydra.sweep.dir={sweep}",
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert "1 job(s) failed" in result.stderr and "Traceback" not in result.stderr
    failed = sorted(sweep.glob("*/FAILED"))
    assert len(failed) == 1 and "nonexistent" in failed[0].read_text()
    assert len(list(sweep.glob("*/metrics.json"))) == 1
