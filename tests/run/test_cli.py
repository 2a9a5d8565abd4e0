"""Bad command-line input ends with one clear line on stderr and exit status 2, no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch
from run_support import REPO, TINY, cli_env, make_config

from winclip_lit.cli import one_line
from winclip_lit.engine.build import build_trainer
from winclip_lit.engine.data import prepare_dataset
from winclip_lit.engine.errors import ConfigError, user_errors

CASES = {
    "report_without_runs": (["dir={tmp}"], "no metrics.json below"),
    "report_without_dir": ([], "pass dir=<sweep or run folder>"),
    "unknown_option": (["backbone=vit_huge"], "Could not find 'backbone/vit_huge'"),
    "missing_root": (
        [*TINY, "dataset.root=/nonexistent/mvtec_anomaly_detection"],
        "dataset root /nonexistent/mvtec_anomaly_detection does not exist; pass dataset.root=",
    ),
    "missing_weights": (
        ["logger=none", "dataset.categories=[bottle]", "backbone.cache_dir={tmp}/empty-cache"],
        "Could not load weights 'laion400m_e31' for ViT-B-16-plus-240",
    ),
}


def script_of(case: str) -> str:
    return "report.py" if case.startswith("report") else "evaluate.py"


@pytest.mark.slow
def test_bad_input_gives_one_line_and_nonzero_exit(data_dir: Path, tmp_path: Path) -> None:
    env = {**cli_env(tmp_path), "WINCLIP_DATA": str(data_dir)}
    # Start every case at once: each process spends most of its time importing torch and open_clip.
    procs = {
        name: subprocess.Popen(
            [sys.executable, str(REPO / script_of(name)), *(a.format(tmp=tmp_path) for a in args)],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, (args, _) in CASES.items()
    }
    for name, proc in procs.items():
        _, stderr = proc.communicate(timeout=300)
        lines = [line for line in stderr.splitlines() if line.strip()]
        assert proc.returncode == 2, (name, stderr)
        assert len(lines) == 1, (name, stderr)
        task = script_of(name).removesuffix(".py")
        assert lines[0].startswith(f"winclip-lit {task}: error: ") and CASES[name][1] in lines[0], (
            name,
            stderr,
        )
        assert "Traceback" not in stderr


def test_folder_dataset_without_normal_dir_names_the_key() -> None:
    cfg = make_config("dataset=folder")
    with pytest.raises(ConfigError, match=r"^dataset.normal_dir is required for dataset=folder"):
        prepare_dataset(cfg)


def test_one_line_collapses_hydra_messages() -> None:
    error = ValueError(
        "In 'config': Could not find 'x/y'\n\nAvailable options in 'x':\n\ta\n\tb\nConfig search path:\n\tz"
    )
    assert one_line(error) == "In 'config': Could not find 'x/y' Available options in 'x': a b"


def test_gpu_trainer_without_gpu_is_a_user_error() -> None:
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(user_errors(), match="GPU|gpu|CUDA|cuda") as caught:
        build_trainer(make_config("trainer=gpu").trainer)
    assert "\n" not in one_line(caught.value)
