"""What the command leaves and says: results readable by colleagues (umask 022 -> 644), and one-line
messages for common slips (unknown task, ``shot=3``, offline weights)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from command_support import error_lines, winclip_lit

pytestmark = pytest.mark.slow


def _modes(folder: Path) -> dict[str, int]:
    return {
        p.relative_to(folder).as_posix(): stat.S_IMODE(p.stat().st_mode)
        for p in folder.rglob("*")
        if p.is_file()
    }


def test_results_files_get_the_users_permissions(tmp_path: Path, mvtec: list[str], mvtec_root: Path) -> None:
    old = os.umask(0o022)
    try:
        cache = tmp_path / "features"
        runs = {
            "evaluate": [f"hydra.run.dir={tmp_path / 'eval'}", "cache.enabled=true", f"cache.dir={cache}"],
            "train": [f"hydra.run.dir={tmp_path / 'train'}", "shot=1", "dataset.categories=[bottle]"],
        }
        for task, args in runs.items():
            result = winclip_lit(tmp_path, task, *mvtec, *args)
            assert result.returncode == 0, result.stderr
        predict = winclip_lit(
            tmp_path,
            "predict",
            *mvtec,
            f"ckpt_path={tmp_path / 'train' / 'checkpoint.pt'}",
            f"predict.input_dir={mvtec_root / 'bottle' / 'test'}",
            f"hydra.run.dir={tmp_path / 'predict'}",
        )
        assert predict.returncode == 0, predict.stderr
        report = winclip_lit(tmp_path, "report", f"dir={tmp_path / 'eval'}")
        assert report.returncode == 0, report.stderr
    finally:
        os.umask(old)
    modes = {
        **{f"eval/{k}": v for k, v in _modes(tmp_path / "eval").items()},
        **{f"train/{k}": v for k, v in _modes(tmp_path / "train").items()},
        **{f"predict/{k}": v for k, v in _modes(tmp_path / "predict").items()},
        **{f"cache/{k}": v for k, v in _modes(cache).items()},
    }
    for name in ("eval/metrics.json", "eval/metrics.md", "eval/metrics.csv", "train/checkpoint.pt",
                 "predict/scores.csv"):  # fmt: skip
        assert name in modes
    assert any(k.startswith("eval/figures/") for k in modes) and any(
        k.startswith("predict/overlays/") for k in modes
    )
    assert any(k.startswith("cache/") for k in modes) and any(k.startswith("eval/report") for k in modes)
    wrong = {k: oct(v) for k, v in modes.items() if v != 0o644}
    assert not wrong, wrong


def test_an_unknown_task_names_the_close_one(tmp_path: Path) -> None:
    result = winclip_lit(tmp_path, "evalute")
    assert result.returncode == 2
    assert "unknown task 'evalute'" in result.stderr and "winclip-lit evaluate" in result.stderr


def test_shot_3_hints_shot_k(tmp_path: Path, mvtec: list[str]) -> None:
    result = winclip_lit(tmp_path, "evaluate", *mvtec, "shot=3")
    assert result.returncode == 2
    lines = error_lines(result)
    assert len(lines) == 1 and "shot.k=3" in lines[0], result.stderr


def test_the_summary_says_percent(tmp_path: Path, mvtec: list[str]) -> None:
    result = winclip_lit(
        tmp_path, "evaluate", *mvtec, "dataset.categories=[bottle]", "dashboard.figures=false"
    )
    assert result.returncode == 0, result.stderr
    summary = [line for line in result.stderr.splitlines() if line.startswith("mean over")]
    assert summary and "image AUROC" in summary[0] and "%" in summary[0]


def test_the_default_weights_offline_fail_fast_naming_the_keys(tmp_path: Path, mvtec_root: Path) -> None:
    """No hub (a closed loopback port stands for it), nothing cached: one line, no retry storm."""
    result = winclip_lit(
        tmp_path,
        "evaluate",
        "logger=none",
        f"dataset.root={mvtec_root}",
        env={
            "HF_HUB_OFFLINE": "0",
            "HF_ENDPOINT": "http://127.0.0.1:9",
            "HF_HUB_CACHE": str(tmp_path / "hub"),
        },
    )
    assert result.returncode == 2
    lines = error_lines(result)
    assert len(lines) == 1, result.stderr
    assert (
        "backbone.pretrained=/path/to/open_clip_weights.bin" in lines[0]
        and "backbone=tiny_random" in lines[0]
    )
    assert "Retrying" not in result.stderr
