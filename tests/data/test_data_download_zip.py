"""Zip downloads of BTAD, KolektorSDD and KolektorSDD2 from local archives; safe zip extraction; the
table of dataset sources used by `dataset.download=true`."""

from __future__ import annotations

import hashlib
import stat
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from winclip_lit.data import (
    BTAD_CATEGORIES,
    DATASET_SOURCES,
    BTADDataModule,
    DatasetError,
    KSDD2DataModule,
    KSDDDataModule,
    download_dataset,
    safe_extract,
)
from winclip_lit.data.synthetic import make_btad, make_ksdd, make_ksdd2


def _zip(source: Path, archive: Path, prefix: str = "") -> str:
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(source.rglob("*")):
            if path.is_file():
                zf.write(path, prefix + path.relative_to(source).as_posix())
    return hashlib.sha256(archive.read_bytes()).hexdigest()


def _no_network(url: str, dest: Path) -> None:
    raise AssertionError("must not download when the data is present")


def test_btad_archive_wrapper_folder_is_hoisted(tmp_path) -> None:
    make_btad(tmp_path / "src", n_train=1, n_good_test=1, n_defect=1, size=(8, 8))
    archive = tmp_path / "btad.zip"
    digest = _zip(tmp_path / "src", archive, prefix="BTech_Dataset_transformed/")
    root = download_dataset(
        "btad", tmp_path / "BTech_Dataset_transformed", url=archive.as_uri(), sha256=digest
    )
    assert sorted(p.name for p in root.iterdir()) == list(BTAD_CATEGORIES)
    assert BTADDataModule(root, image_size=16, num_workers=0, k_shot=1).categories == list(BTAD_CATEGORIES)
    assert download_dataset("btad", root, url=archive.as_uri(), sha256=digest, fetch=_no_network) == root
    with pytest.raises(DatasetError, match="checksum mismatch"):
        download_dataset("btad", tmp_path / "other", url=archive.as_uri(), sha256="00")


def test_ksdd_from_a_url_without_file_name(tmp_path) -> None:
    make_ksdd(tmp_path / "src", n_items=50, n_parts=1, defective=((0, 0),), size=(8, 4))
    archive = tmp_path / "KolektorSDD.zip"
    digest = _zip(tmp_path / "src", archive)
    calls: list[str] = []

    def fetch(url: str, dest: Path) -> None:
        calls.append(url)
        dest.write_bytes(archive.read_bytes())

    root = download_dataset(
        "ksdd",
        tmp_path / "KolektorSDD",
        url="https://example.invalid/kolektorsdd",
        sha256=digest,
        fetch=fetch,
    )
    assert calls == ["https://example.invalid/kolektorsdd"]
    assert not (root / "KolektorSDD.zip").exists() and not (root / "kolektorsdd").exists()
    assert len(KSDDDataModule(root, image_size=16, num_workers=0, reference_split=0.0).test_records()) == 50


def test_ksdd2_without_checksum_warns(tmp_path, caplog) -> None:
    assert DATASET_SOURCES["ksdd2"].sha256 is None  # none recorded that we could check
    make_ksdd2(tmp_path / "src", size=(8, 4))
    archive = tmp_path / "KolektorSDD2.zip"
    _zip(tmp_path / "src", archive)
    root = download_dataset("ksdd2", tmp_path / "KolektorSDD2", url=archive.as_uri(), keep_archive=True)
    assert "no checksum configured" in caplog.text
    assert (root / "KolektorSDD2.zip").is_file()
    assert len(KSDD2DataModule(root, image_size=16, num_workers=0).test_records()) == 5


@pytest.mark.parametrize("name", ["../escape.txt", "/tmp/zip_abs_escape.txt"])
def test_zip_refuses_escapes(tmp_path, name) -> None:
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(name, b"x")
    with pytest.raises(DatasetError, match="would be extracted outside"):
        safe_extract(archive, tmp_path / "dest")
    assert not (tmp_path / "escape.txt").exists() and list((tmp_path / "dest").iterdir()) == []


def test_zip_refuses_symlinks(tmp_path) -> None:
    archive = tmp_path / "link.zip"
    info = zipfile.ZipInfo("inside/link")
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(info, "../../outside")
    with pytest.raises(DatasetError, match="is a symbolic link"):
        safe_extract(archive, tmp_path / "dest")


def test_every_dataset_config_has_exactly_one_source() -> None:
    """`dataset.download=true` reads the table; the entries without a URL say where to get the data."""
    conf = Path(__file__).resolve().parents[2] / "src" / "winclip_lit" / "conf" / "dataset"
    names = [yaml.safe_load(path.read_text())["name"] for path in sorted(conf.glob("*.yaml"))]
    assert len(names) == 22 and sorted(names) == sorted(set(names)) == sorted(DATASET_SOURCES)
    fetchable = {name for name, source in DATASET_SOURCES.items() if source.url is not None}
    assert fetchable == {"mvtec", "visa", "btad", "ksdd", "ksdd2"}
    assert "github.com/stepanje/MPDD" in DATASET_SOURCES["mpdd"].where


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("mpdd", "MPDD has no download URL; download MPDD by hand from"),
        ("nope", "unknown dataset 'nope'; choose one of br35h, brainmri, btad"),
    ],
)
def test_manual_and_unknown_datasets_are_refused(tmp_path, name, message) -> None:
    with pytest.raises(DatasetError, match=message):
        download_dataset(name, tmp_path / "ds", fetch=_no_network)
    assert not (tmp_path / "ds").exists()


def test_dataset_download_true_fetches_the_table_entry(tmp_path, monkeypatch) -> None:
    """The run's `dataset.download=true` path downloads through the table (here pointed at a local zip)."""
    from omegaconf import OmegaConf

    from winclip_lit.engine.data import prepare_dataset

    make_ksdd2(tmp_path / "src", size=(8, 4))
    archive = tmp_path / "KolektorSDD2.zip"
    digest = _zip(tmp_path / "src", archive)
    entry = replace(DATASET_SOURCES["ksdd2"], url=archive.as_uri(), sha256=digest)
    monkeypatch.setitem(DATASET_SOURCES, "ksdd2", entry)
    root = tmp_path / "KolektorSDD2"
    prepare_dataset(OmegaConf.create({"dataset": {"name": "ksdd2", "root": str(root), "download": True}}))
    assert len(KSDD2DataModule(root, image_size=16, num_workers=0).test_records()) == 5
    assert not (root / "KolektorSDD2.zip").exists()
