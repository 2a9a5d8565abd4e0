"""Through the real command: the dataset root defines results (job names, report rows) and a key that
changes no result (``dashboard.figures``) does not stop ``resume=true``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from run_support import REPO, TINY, cli_env

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::UserWarning")]


def winclip_lit(tmp: Path, *args: str) -> subprocess.CompletedProcess:
    """Run the installed ``winclip-lit`` command (``python -m winclip_lit`` where it is not installed)."""
    script = Path(sys.executable).with_name("winclip-lit")
    command = [str(script)] if script.is_file() else [sys.executable, "-m", "winclip_lit"]
    return subprocess.run(
        [*command, *args], cwd=REPO, env=cli_env(tmp), capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def two_root_sweep(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path], list[str]]:
    """``evaluate -m dataset.root=A,B`` over two different synthetic MVTec-AD folders of the same name."""
    from winclip_lit.data.synthetic import make_mvtec

    tmp = tmp_path_factory.mktemp("roots")
    roots = [tmp / name / "mvtec_anomaly_detection" for name in ("one", "two")]
    for seed, root in enumerate(roots):
        make_mvtec(root, categories=("bottle",), n_train=4, n_good_test=3, n_defect=2, seed=seed)
    sweep = tmp / "sweep"
    args = [*TINY, "dataset.categories=[bottle]", "shot=1"]
    done = winclip_lit(
        tmp, "evaluate", "-m", *args, f"dataset.root={roots[0]},{roots[1]}", f"hydra.sweep.dir={sweep}"
    )
    assert done.returncode == 0, done.stderr
    jobs = sorted(p.parent for p in sweep.rglob("metrics.json"))
    return sweep, jobs, args


def test_a_sweep_over_two_roots_gives_two_names_and_two_report_rows(
    two_root_sweep: tuple[Path, list[Path], list[str]], tmp_path: Path
) -> None:
    sweep, jobs, _ = two_root_sweep
    assert len(jobs) == 2
    names = [job.name.split("_", 1)[1] for job in jobs]
    assert names[0] != names[1]
    assert all("dataset.root=mvtec_anomaly_detection-" in name and "/" not in name for name in names)

    done = winclip_lit(tmp_path, "report", f"dir={sweep}", "figures=false")
    assert done.returncode == 0, done.stderr
    rows = (sweep / "report.csv").read_text(encoding="utf-8").splitlines()[1:]
    assert len(rows) == 2 and all(row.startswith('"dataset.root=') for row in rows), rows
    assert all(",0," in row and "± –" in row for row in rows), rows  # one seed each, no ± 0.0
    assert "appears 2 times" not in done.stderr


def test_resume_with_other_figures_setting_continues_a_finished_run(
    two_root_sweep: tuple[Path, list[Path], list[str]], tmp_path: Path
) -> None:
    _, jobs, args = two_root_sweep
    job = jobs[0]
    before = json.loads((job / "metrics.json").read_text())
    root = before["config"]["dataset"]["root"]
    done = winclip_lit(
        tmp_path,
        "evaluate",
        *args,
        f"dataset.root={root}",
        "resume=true",
        "dashboard.figures=false",
        f"hydra.run.dir='{job}'",  # job folders hold `=` and `,`: quoted for Hydra
    )
    assert done.returncode == 0, done.stderr
    assert "resumed from metrics.partial.jsonl" in done.stderr
    after = json.loads((job / "metrics.json").read_text())
    assert after["mean"] == before["mean"] and after["config"]["dashboard"]["figures"] is False
