"""The benchmark scripts run in their seconds-long smoke mode and print their tables."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("bench_model.py", "efficiency"),
        ("bench_precision.py", "bf16 speed-up"),
        ("bench_metrics.py", "AUPRO"),
        ("bench_evaluate.py", "start-up / model s/image"),
        ("bench_sweep.py", "sweep, feature cache (cold)"),
        ("bench_pipeline.py", "loading + metrics:"),
        ("bench_export.py", "OpenVINO, int8 weights"),
    ],
)
def test_benchmark_smoke(script, expected):
    env = {**os.environ, "WANDB_MODE": "disabled", "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), "--smoke"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert expected in proc.stdout
