"""Fixtures of the command-level tests: synthetic data for the installed ``winclip-lit`` command."""

from __future__ import annotations

from pathlib import Path

import pytest
from command_support import CATEGORIES, TINY


@pytest.fixture(scope="session")
def mvtec_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A synthetic MVTec-AD with two categories (never modified by the tests)."""
    from winclip_lit.data.synthetic import make_mvtec

    root = tmp_path_factory.mktemp("commands-data") / "mvtec_anomaly_detection"
    make_mvtec(root, categories=CATEGORIES, n_train=4, n_good_test=3, n_defect=2)
    return root


@pytest.fixture(scope="session")
def mvtec(mvtec_root: Path) -> list[str]:
    """Overrides of a tiny-backbone evaluation of the synthetic MVTec-AD."""
    return [*TINY, f"dataset.root={mvtec_root}", f"dataset.categories=[{','.join(CATEGORIES)}]"]
