"""Zip downloads of BTAD, KolektorSDD and KolektorSDD2 from local archives; safe zip extraction; the
download registry used by `dataset.download=true`."""

from __future__ import annotations

import hashlib
import stat
import zipfile
from pathlib import Path

import pytest

from winclip_lit.data import (
    BTAD_CATEGORIES,
    KSDD2_SHA256,
    MANUAL_SOURCES,
    BTADDataModule,
    DatasetError,
    KSDD2DataModule,
    KSDDDataModule,
    download,
    download_btad,
    download_ksdd,
    download_ksdd2,
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
    root = download_btad(tmp_path / "BTech_Dataset_transformed", url=archive.as_uri(), sha256=digest)
    assert sorted(p.name for p in root.iterdir()) == list(BTAD_CATEGORIES)
    assert BTADDataModule(root, image_size=16, num_workers=0, k_shot=1).categories == list(BTAD_CATEGORIES)
    assert download_btad(root, url=archive.as_uri(), sha256=digest, fetch=_no_network) == root
    with pytest.raises(DatasetError, match="checksum mismatch"):
        download_btad(tmp_path / "other", url=archive.as_uri(), sha256="00")


def test_ksdd_from_a_url_without_file_name(tmp_path) -> None:
    make_ksdd(tmp_path / "src", n_items=50, n_parts=1, defective=((0, 0),), size=(8, 4))
    archive = tmp_path / "KolektorSDD.zip"
    digest = _zip(tmp_path / "src", archive)
    calls: list[str] = []

    def fetch(url: str, dest: Path) -> None:
        calls.append(url)
        dest.write_bytes(archive.read_bytes())

    root = download_ksdd(
        tmp_path / "KolektorSDD", url="https://example.invalid/kolektorsdd", sha256=digest, fetch=fetch
    )
    assert calls == ["https://example.invalid/kolektorsdd"]
    assert not (root / "KolektorSDD.zip").exists() and not (root / "kolektorsdd").exists()
    assert len(KSDDDataModule(root, image_size=16, num_workers=0, reference_split=0.0).test_records()) == 50


def test_ksdd2_without_checksum_warns(tmp_path, caplog) -> None:
    assert KSDD2_SHA256 is None  # none recorded that we could check
    make_ksdd2(tmp_path / "src", size=(8, 4))
    archive = tmp_path / "KolektorSDD2.zip"
    _zip(tmp_path / "src", archive)
    root = download_ksdd2(tmp_path / "KolektorSDD2", url=archive.as_uri(), keep_archive=True)
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


def test_every_dataset_config_has_a_download_helper_or_a_source() -> None:
    """`dataset.download=true` calls `download_<name>`; the others name where to get the data."""
    conf = Path(__file__).resolve().parents[2] / "src" / "winclip_lit" / "conf" / "dataset"
    configs = {p.stem for p in conf.glob("*.yaml")} - {"folder"}
    helpers = {name for name in configs if callable(getattr(download, f"download_{name}", None))}
    assert helpers == {"mvtec", "visa", "btad", "ksdd", "ksdd2"}
    manual = {"mpdd", "dagm", "dtd_synthetic", "meta_json", "realiad", "mvtec_ad2", "mvtec_loco"}
    assert set(MANUAL_SOURCES) == configs - helpers == manual
    assert download.download_btad is download_btad and download.download_ksdd2 is download_ksdd2
    assert "github.com/stepanje/MPDD" in MANUAL_SOURCES["mpdd"]
