"""Output folders through the real command: a folder that holds results is refused before anything is
written (Hydra turns exceptions of its callbacks into warnings, so only the command can prove this)."""

from __future__ import annotations

from pathlib import Path

import pytest
from command_support import error_lines, snapshot, winclip_lit

pytestmark = pytest.mark.slow


def _folder_with(tmp: Path, *names: str) -> Path:
    folder = tmp / "earlier"
    for name in names:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(b"results of an earlier run\n")
    return folder


@pytest.mark.parametrize(
    ("task", "held"),
    [
        ("evaluate", ("metrics.json", "metrics.partial.jsonl")),
        ("train", ("checkpoint.pt",)),
        ("predict", ("scores.csv", "overlays/x_png.png")),
    ],
)
def test_a_run_dir_holding_results_is_refused_untouched(
    tmp_path: Path, mvtec: list[str], mvtec_root: Path, task: str, held: tuple[str, ...]
) -> None:
    folder = _folder_with(tmp_path, *held)
    before = snapshot(folder)
    extra = [f"predict.input_dir={mvtec_root / 'bottle' / 'test' / 'good'}"] if task == "predict" else []
    result = winclip_lit(tmp_path, task, *mvtec, *extra, f"hydra.run.dir={folder}")
    assert result.returncode == 2, result.stderr
    lines = error_lines(result)
    assert len(lines) == 1 and "already holds results" in lines[0], result.stderr
    assert snapshot(folder) == before


@pytest.mark.parametrize("task", ["train", "predict"])
def test_resume_is_refused_outside_evaluate(
    tmp_path: Path, mvtec: list[str], mvtec_root: Path, task: str
) -> None:
    folder = _folder_with(tmp_path, "scores.csv" if task == "predict" else "checkpoint.pt")
    before = snapshot(folder)
    extra = [f"predict.input_dir={mvtec_root / 'bottle' / 'test' / 'good'}"] if task == "predict" else []
    result = winclip_lit(tmp_path, task, *mvtec, *extra, "resume=true", f"hydra.run.dir={folder}")
    assert result.returncode == 2
    lines = error_lines(result)
    assert len(lines) == 1 and "resume=true continues an evaluate run only" in lines[0], result.stderr
    assert snapshot(folder) == before


def test_resume_needs_an_explicit_folder(tmp_path: Path, mvtec: list[str]) -> None:
    result = winclip_lit(tmp_path, "evaluate", *mvtec, "resume=true")
    assert result.returncode == 2
    lines = error_lines(result)
    assert len(lines) == 1 and "hydra.run.dir=" in lines[0], result.stderr
    assert not (tmp_path / "outputs").exists()


def test_an_existing_sweep_is_refused_and_a_resumed_sweep_counts_only_its_own_failures(
    tmp_path: Path, mvtec: list[str]
) -> None:
    sweep = tmp_path / "sweep"
    args = ["-m", *mvtec, "dataset.categories=[bottle]", "seed=0,1", f"hydra.sweep.dir={sweep}"]
    first = winclip_lit(tmp_path, "evaluate", *args)
    assert first.returncode == 0, first.stderr
    jobs = sorted(p.parent for p in sweep.glob("*/metrics.json"))
    assert len(jobs) == 2
    before = snapshot(sweep)
    again = winclip_lit(tmp_path, "evaluate", *args)
    assert again.returncode == 2
    lines = error_lines(again)
    assert len(lines) == 1 and "hydra.sweep.dir" in lines[0] and "already holds results" in lines[0]
    assert snapshot(sweep) == before
    # A FAILED marker left by an earlier sweep is not a failure of this one.
    (jobs[0] / "FAILED").write_text("RuntimeError: an earlier attempt\n")
    resumed = winclip_lit(tmp_path, "evaluate", *args, "resume=true")
    assert resumed.returncode == 0, resumed.stderr
    assert "failed" not in resumed.stderr


def test_an_unwritable_output_is_one_line_before_the_model_loads(tmp_path: Path, mvtec: list[str]) -> None:
    afile = tmp_path / "not-a-folder"
    afile.write_text("")
    for args in ([], ["-m", "seed=0,1"]):
        result = winclip_lit(tmp_path, "evaluate", *mvtec, *args, env={"WINCLIP_OUTPUT": str(afile)})
        assert result.returncode == 2
        lines = error_lines(result)
        assert len(lines) == 1 and "WINCLIP_OUTPUT" in lines[0] and str(afile) in lines[0], result.stderr
    folder = tmp_path / "file-as-run-dir"
    folder.write_text("keep me")
    result = winclip_lit(tmp_path, "evaluate", *mvtec, f"hydra.run.dir={folder}")
    assert result.returncode == 2 and len(error_lines(result)) == 1, result.stderr
    assert folder.read_text() == "keep me"
