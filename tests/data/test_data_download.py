"""Download helpers against local archives: fetch, checksum, safe extraction, skip when present."""

from __future__ import annotations

import hashlib
import io
import logging
import tarfile
from pathlib import Path

import pytest

from winclip_lit.data import (
    DATASET_SOURCES,
    MVTEC_CATEGORIES,
    VISA_CATEGORIES,
    DatasetError,
    MVTecDataModule,
    VisADataModule,
    download_dataset,
    safe_extract,
    verify_checksum,
)
from winclip_lit.data.synthetic import make_mvtec, make_visa


def _tar(source: Path, archive: Path, prefix: str = "", mode: str = "w:xz") -> str:
    with tarfile.open(archive, mode) as tar:
        for child in sorted(source.iterdir()):
            tar.add(child, arcname=f"{prefix}{child.name}")
    return hashlib.sha256(archive.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def mvtec_archive(tmp_path_factory) -> tuple[Path, str]:
    base = tmp_path_factory.mktemp("mvtec_src")
    make_mvtec(
        base / "src", MVTEC_CATEGORIES, n_train=1, n_good_test=1, n_defect=1, size=(8, 8), defects=("cut",)
    )
    archive = base / "mvtec_anomaly_detection.tar.xz"
    return archive, _tar(base / "src", archive)


def test_download_mvtec_from_file_url(mvtec_archive, tmp_path) -> None:
    archive, digest = mvtec_archive
    root = download_dataset("mvtec", tmp_path / "ds", url=archive.as_uri(), sha256=digest)
    assert all((root / c / "train" / "good" / "000.png").is_file() for c in MVTEC_CATEGORIES)
    assert not (root / archive.name).exists()
    dm = MVTecDataModule(root, categories="all", image_size=16, k_shot=1, num_workers=0)
    assert len(dm.categories) == 15

    def no_network(url: str, dest: Path) -> None:
        raise AssertionError("must not download when the data is present")

    assert download_dataset("mvtec", root, url=archive.as_uri(), sha256=digest, fetch=no_network) == root


def test_checksum_mismatch_and_missing_checksum(mvtec_archive, tmp_path, caplog) -> None:
    archive, digest = mvtec_archive
    with pytest.raises(DatasetError, match=f"checksum mismatch for .*: sha256 {digest}, expected 00ff"):
        download_dataset("mvtec", tmp_path / "bad", url=archive.as_uri(), sha256="00ff")
    assert not (tmp_path / "bad" / "bottle").exists()  # nothing extracted from an unverified archive
    with caplog.at_level(logging.WARNING, logger="winclip_lit.data.download"):
        download_dataset("mvtec", tmp_path / "bad", url=archive.as_uri(), sha256=None, keep_archive=True)
    assert "no checksum configured" in caplog.text
    assert (tmp_path / "bad" / archive.name).is_file()
    verify_checksum(archive, digest.upper())


def test_wrapped_archive_is_hoisted_and_split_csv_fetched(tmp_path) -> None:
    data = make_visa(tmp_path / "src", VISA_CATEGORIES, n_train=1, n_good_test=1, n_defect=1, size=(8, 8))
    split_text = data.split_csv.read_text()
    data.split_csv.unlink()
    data.split_csv.parent.rmdir()
    archive = tmp_path / "VisA_20220922.tar"
    digest = _tar(data.root, archive, prefix="VisA_20220922/", mode="w")
    calls: list[str] = []

    def fetch(url: str, dest: Path) -> None:
        calls.append(url)
        if url.endswith(".csv"):
            dest.write_text(split_text)
        else:
            dest.write_bytes(archive.read_bytes())

    root = download_dataset(
        "visa", tmp_path / "visa", url="https://example.invalid/VisA_20220922.tar", sha256=digest, fetch=fetch
    )
    assert calls == ["https://example.invalid/VisA_20220922.tar", DATASET_SOURCES["visa"].extras[0].url]
    assert (root / "split_csv" / "1cls.csv").read_text() == split_text
    assert not (root / "VisA_20220922").exists()
    dm = VisADataModule(root, categories="all", image_size=16, num_workers=0)
    assert len(dm.categories) == 12


def _evil_tar(path: Path, member: tarfile.TarInfo, payload: bytes = b"x") -> Path:
    with tarfile.open(path, "w") as tar:
        member.size = len(payload) if member.isfile() else 0
        tar.addfile(member, io.BytesIO(payload) if member.isfile() else None)
    return path


@pytest.mark.parametrize(
    ("name", "kind", "link", "message"),
    [
        ("../escape.txt", tarfile.REGTYPE, "", "would be extracted outside"),
        ("/tmp/abs_escape.txt", tarfile.REGTYPE, "", "would be extracted outside"),
        ("inside/link", tarfile.SYMTYPE, "../../outside", "links to '../../outside' outside"),
        ("inside/hard", tarfile.LNKTYPE, "/etc/passwd", "links to '/etc/passwd' outside"),
        ("dev", tarfile.CHRTYPE, "", "is a device or fifo"),
    ],
)
def test_safe_extract_refuses_escapes(tmp_path, name, kind, link, message) -> None:
    member = tarfile.TarInfo(name)
    member.type = kind
    member.linkname = link
    archive = _evil_tar(tmp_path / "evil.tar", member)
    dest = tmp_path / "dest"
    with pytest.raises(DatasetError, match=message):
        safe_extract(archive, dest)
    assert not (tmp_path / "escape.txt").exists()
    assert list(dest.iterdir()) == []


def test_corrupt_archive(tmp_path) -> None:
    archive = tmp_path / "broken.tar"
    archive.write_bytes(b"definitely not a tar file" * 40)
    with pytest.raises(DatasetError, match=r"cannot extract .*broken.tar"):
        safe_extract(archive, tmp_path / "dest")


def test_download_shows_a_progress_bar_on_the_console(tmp_path, capsys) -> None:
    from winclip_lit.data.download import fetch_url

    source = tmp_path / "archive.bin"
    source.write_bytes(b"x" * (3 << 20))
    fetch_url(source.as_uri(), tmp_path / "copy.bin")
    assert (tmp_path / "copy.bin").read_bytes() == source.read_bytes()
    err = capsys.readouterr().err
    assert "downloading copy.bin" in err and "3.1" in err  # the bar with the size in MB
