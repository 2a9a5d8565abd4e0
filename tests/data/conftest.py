"""Synthetic MVTec-AD / VisA / folder datasets shared by the data tests (read-only: copy before editing)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from winclip_lit.data.synthetic import SyntheticDataset, make_folder, make_mvtec, make_visa


@pytest.fixture(scope="session")
def mvtec(tmp_path_factory: pytest.TempPathFactory) -> SyntheticDataset:
    """Two categories, 48x64 images, ``grid`` grayscale."""
    return make_mvtec(tmp_path_factory.mktemp("mvtec"), categories=("bottle", "grid"), grayscale=("grid",))


@pytest.fixture(scope="session")
def visa(tmp_path_factory: pytest.TempPathFactory) -> SyntheticDataset:
    """Two categories with class-id masks (1..3), ``pcb1`` grayscale."""
    return make_visa(tmp_path_factory.mktemp("visa"), categories=("candle", "pcb1"), grayscale=("pcb1",))


@pytest.fixture(scope="session")
def folder(tmp_path_factory: pytest.TempPathFactory) -> SyntheticDataset:
    """10 normal images, two abnormal folders (3 and 2 images), masks named ``<stem>_mask.png``."""
    return make_folder(tmp_path_factory.mktemp("folder"), n_normal=10, n_abnormal=(3, 2))


@pytest.fixture
def mvtec_copy(mvtec: SyntheticDataset, tmp_path: Path) -> Path:
    """A private, editable copy of the MVTec-AD fixture."""
    return Path(shutil.copytree(mvtec.root, tmp_path / "mvtec"))
