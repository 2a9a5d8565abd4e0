"""Fixtures of the experiment tests: synthetic datasets and shared CLI runs (tiny backbone)."""

from __future__ import annotations

from pathlib import Path

import pytest
from run_support import CATEGORIES, TINY, run_cli


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """WINCLIP_DATA-style folder with synthetic MVTec-AD (2 categories), VisA (1) and a plain folder."""
    from winclip_lit.data.synthetic import make_folder, make_mvtec, make_visa

    root = tmp_path_factory.mktemp("data")
    make_mvtec(root / "mvtec_anomaly_detection", categories=CATEGORIES, n_train=4, n_good_test=3, n_defect=2)
    make_visa(root / "visa", categories=("candle",), n_train=4, n_good_test=3, n_defect=3)
    make_folder(root / "folder", n_normal=8, n_abnormal=(2, 2))
    return root


@pytest.fixture(scope="session")
def mvtec_args(data_dir: Path) -> list[str]:
    """Overrides for the synthetic MVTec-AD with the tiny backbone."""
    return [
        *TINY,
        f"dataset.root={data_dir / 'mvtec_anomaly_detection'}",
        f"dataset.categories=[{','.join(CATEGORIES)}]",
    ]


@pytest.fixture(scope="session")
def shot2_run(tmp_path_factory: pytest.TempPathFactory, mvtec_args: list[str]) -> Path:
    """One `evaluate.py shot=2` run on the synthetic MVTec-AD (shared by several tests)."""
    tmp = tmp_path_factory.mktemp("shot2")
    run_cli(tmp, "evaluate.py", *mvtec_args, "shot=2", f"hydra.run.dir={tmp / 'run'}")
    return tmp / "run"


@pytest.fixture(scope="session")
def fit_run(tmp_path_factory: pytest.TempPathFactory, mvtec_args: list[str]) -> Path:
    """One `train.py shot=2` run on the synthetic MVTec-AD: its folder holds checkpoint.pt."""
    tmp = tmp_path_factory.mktemp("fit")
    run_cli(tmp, "train.py", *mvtec_args, "shot=2", f"hydra.run.dir={tmp / 'run'}")
    return tmp / "run"
