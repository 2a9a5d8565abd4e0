"""Download, verify and safely extract the datasets that have an official archive URL (for users with
network access): MVTec-AD, VisA, BTAD, KolektorSDD and KolektorSDD2.

MPDD, DAGM 2007 and DTD-Synthetic have no direct official archive URL; :data:`MANUAL_SOURCES` says
where to get them.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import stat
import tarfile
import urllib.request
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path

from winclip_lit.data.btad import BTAD_CATEGORIES
from winclip_lit.data.dagm import DAGM_SOURCE
from winclip_lit.data.dtd_synthetic import DTD_SYNTHETIC_SOURCE
from winclip_lit.data.errors import DatasetError
from winclip_lit.data.mpdd import MPDD_SOURCE
from winclip_lit.data.mvtec import MVTEC_CATEGORIES
from winclip_lit.data.mvtec_ad2 import MVTEC_AD2_SOURCE
from winclip_lit.data.mvtec_loco import MVTEC_LOCO_SOURCE
from winclip_lit.data.realiad import REALIAD_SOURCE
from winclip_lit.data.visa import VISA_CATEGORIES, VISA_SPLIT_FILE

log = logging.getLogger(__name__)

MVTEC_URL = (
    "https://www.mydrive.ch/shares/38536/3830184030e49fe74747669442f0f282/download/420938113-1629952094/"
    "mvtec_anomaly_detection.tar.xz"
)
#: SHA-256 recorded for ``mvtec_anomaly_detection.tar.xz`` (the value anomalib's downloader checks).
MVTEC_SHA256: str | None = "cf4313b13603bec67abb49ca959488f7eedce2a9f7795ec54446c649ac98cd3d"
VISA_URL = "https://amazon-visual-anomaly.s3.us-west-2.amazonaws.com/VisA_20220922.tar"
#: SHA-256 recorded for ``VisA_20220922.tar`` (the value anomalib's downloader checks).
VISA_SHA256: str | None = "2eb8690c803ab37de0324772964100169ec8ba1fa3f7e94291c9ca673f40f362"
VISA_SPLIT_URL = "https://amazon-visual-anomaly.s3.us-west-2.amazonaws.com/VisA/split_csv/1cls.csv"
#: No checksum is recorded for the standalone split file; verification is skipped with a warning.
VISA_SPLIT_SHA256: str | None = None
BTAD_URL = "https://avires.dimi.uniud.it/papers/btad/btad.zip"
#: SHA-256 recorded for ``btad.zip`` by anomalib's downloader (BTech); not verified by us (no network).
BTAD_SHA256: str | None = "461c9387e515bfed41ecaae07c50cf6b10def647b36c9e31d239ab2736b10d2a"
KSDD_URL = "https://go.vicos.si/kolektorsdd"
#: SHA-256 recorded for ``KolektorSDD.zip`` by anomalib's downloader (Kolektor); not verified by us.
KSDD_SHA256: str | None = "65dc621693418585de9c4467d1340ea7958a6181816f0dc2883a1e8b61f9d4dc"
KSDD2_URL = "https://go.vicos.si/kolektorsdd2"
#: No SHA-256 is recorded for ``KolektorSDD2.zip`` that we could check; verification is skipped with a
#: warning (pass ``sha256=...`` to verify).
KSDD2_SHA256: str | None = None

Fetch = Callable[[str, Path], None]
_CHUNK = 1 << 20


def fetch_url(url: str, dest: Path) -> None:
    """Stream ``url`` (http(s):// or file://) into ``dest`` with a progress bar on the console (stderr)
    and progress lines in the log."""
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn, TransferSpeedColumn

    console = Console(stderr=True)
    columns = ("[progress.description]{task.description}", BarColumn(), DownloadColumn())
    with (
        urllib.request.urlopen(url) as response,
        Path(dest).open("wb") as out,
        Progress(*columns, TransferSpeedColumn(), TimeRemainingColumn(), console=console) as bar,
    ):
        total = int(response.headers.get("Content-Length") or 0)
        task = bar.add_task(f"downloading {Path(dest).name}", total=total or None)
        done, next_report = 0, 0.1
        while chunk := response.read(_CHUNK):
            out.write(chunk)
            done += len(chunk)
            bar.update(task, advance=len(chunk))
            if total and done / total >= next_report:
                log.info("downloading %s: %d%% of %.1f MB", url, 100 * done // total, total / 1e6)
                next_report += 0.1


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def verify_checksum(path: Path, expected_sha256: str | None) -> None:
    """Compare the file's SHA-256 with ``expected_sha256``; skip with a warning when it is None.

    Raises:
        DatasetError: On a mismatch.
    """
    if expected_sha256 is None:
        log.warning("no checksum configured for %s; skipping verification", path)
        return
    actual = file_sha256(path)
    if actual.lower() != expected_sha256.strip().lower():
        raise DatasetError(
            f"checksum mismatch for {path}: sha256 {actual}, expected {expected_sha256}; the download is "
            "incomplete or altered, delete the file and download again"
        )
    log.info("checksum ok: %s", path)


def _check_member(member: tarfile.TarInfo, dest: Path) -> None:
    target = (dest / member.name).resolve()
    if Path(member.name).is_absolute() or not target.is_relative_to(dest):
        raise DatasetError(f"archive member {member.name!r} would be extracted outside {dest}; refusing")
    if member.issym() or member.islnk():
        base = target.parent if member.issym() else dest
        link = (base / member.linkname).resolve()
        if Path(member.linkname).is_absolute() or not link.is_relative_to(dest):
            raise DatasetError(
                f"archive member {member.name!r} links to {member.linkname!r} outside {dest}; refusing"
            )
    elif not (member.isfile() or member.isdir()):
        raise DatasetError(f"archive member {member.name!r} is a device or fifo; refusing")


def _extract_zip(archive: Path, dest: Path) -> None:
    try:
        with zipfile.ZipFile(archive) as zf:
            members = zf.infolist()
            for member in members:
                target = (dest / member.filename).resolve()
                if Path(member.filename).is_absolute() or not target.is_relative_to(dest):
                    raise DatasetError(
                        f"archive member {member.filename!r} would be extracted outside {dest}; refusing"
                    )
                if stat.S_ISLNK(member.external_attr >> 16):
                    raise DatasetError(f"archive member {member.filename!r} is a symbolic link; refusing")
            zf.extractall(dest, members=members)
    except (zipfile.BadZipFile, zipfile.LargeZipFile) as exc:
        raise DatasetError(f"cannot extract {archive} ({exc}); delete it and download again") from exc


def safe_extract(archive: Path, dest: Path) -> None:
    """Extract a tar (any compression) or zip archive into ``dest``, refusing path traversal, links out
    of ``dest`` and special files.

    Raises:
        DatasetError: If a member would land outside ``dest`` or the archive cannot be read.
    """
    dest = Path(dest).resolve()
    dest.mkdir(parents=True, exist_ok=True)
    if zipfile.is_zipfile(archive):
        _extract_zip(Path(archive), dest)
        return
    try:
        with tarfile.open(archive, "r:*") as tar:
            members = tar.getmembers()
            for member in members:
                _check_member(member, dest)
            if hasattr(tarfile, "data_filter"):
                tar.extractall(dest, members=members, filter="data")
            else:  # pragma: no cover - Python without extraction filters; members were checked above
                tar.extractall(dest, members=members)
    except tarfile.TarError as exc:
        raise DatasetError(f"cannot extract {archive} ({exc}); delete it and download again") from exc


def _hoist_single_folder(root: Path, expected: Iterable[str]) -> None:
    """Move ``root/<single folder>/*`` up when the archive wrapped the dataset in one folder."""
    expected = list(expected)
    if any((root / name).is_dir() for name in expected):
        return
    folders = [p for p in root.iterdir() if p.is_dir()]
    if len(folders) == 1 and any((folders[0] / name).is_dir() for name in expected):
        for child in folders[0].iterdir():
            shutil.move(str(child), str(root / child.name))
        folders[0].rmdir()


def download_and_extract(
    url: str,
    root: str | Path,
    sha256: str | None,
    fetch: Fetch | None = None,
    keep_archive: bool = False,
    filename: str | None = None,
) -> Path:
    """Fetch an archive into ``root``, verify it and extract it there.

    An archive already in ``root`` under its file name (``filename``, default: the URL's last part)
    is reused (and verified).

    Returns:
        The root folder.
    """
    root = Path(root).expanduser()
    root.mkdir(parents=True, exist_ok=True)
    archive = root / (filename or url.rstrip("/").rsplit("/", 1)[-1])
    if not archive.is_file():
        partial = archive.with_name(archive.name + ".part")
        log.info("downloading %s to %s", url, archive)
        (fetch or fetch_url)(url, partial)
        os.replace(partial, archive)
    verify_checksum(archive, sha256)
    log.info("extracting %s", archive)
    safe_extract(archive, root)
    if not keep_archive:
        archive.unlink()
    return root


def mvtec_present(root: str | Path) -> bool:
    """Whether every MVTec-AD category has its train/good and test folders under ``root``."""
    root = Path(root).expanduser()
    return all(
        (root / c / "train" / "good").is_dir() and (root / c / "test").is_dir() for c in MVTEC_CATEGORIES
    )


def visa_present(root: str | Path) -> bool:
    """Whether the VisA split file and every VisA category folder exist under ``root``."""
    root = Path(root).expanduser()
    return (root / VISA_SPLIT_FILE).is_file() and all((root / c / "Data").is_dir() for c in VISA_CATEGORIES)


def download_mvtec(
    root: str | Path,
    url: str = MVTEC_URL,
    sha256: str | None = MVTEC_SHA256,
    fetch: Fetch | None = None,
    keep_archive: bool = False,
) -> Path:
    """Download MVTec-AD (about 5 GB) into ``root`` unless it is already there.

    Args:
        root: Target folder; the categories end up as ``root/<category>``.
        url: Archive location (the official one by default).
        sha256: Expected archive checksum; None skips verification with a warning.
        fetch: ``fetch(url, dest_path)`` replacing the built-in HTTP download (e.g. a mirror client).
        keep_archive: Keep the archive after extraction.

    Returns:
        The dataset root to pass to :class:`~winclip_lit.data.MVTecDataModule`.
    """
    root = Path(root).expanduser()
    if mvtec_present(root):
        log.info("MVTec-AD already present in %s; skipping download", root)
        return root
    download_and_extract(url, root, sha256, fetch, keep_archive)
    _hoist_single_folder(root, MVTEC_CATEGORIES)
    if not mvtec_present(root):
        raise DatasetError(f"the archive from {url} did not produce the MVTec-AD layout under {root}")
    return root


def download_visa(
    root: str | Path,
    url: str = VISA_URL,
    sha256: str | None = VISA_SHA256,
    split_url: str = VISA_SPLIT_URL,
    split_sha256: str | None = VISA_SPLIT_SHA256,
    fetch: Fetch | None = None,
    keep_archive: bool = False,
) -> Path:
    """Download VisA (about 1.8 GB, raw release layout) into ``root`` unless it is already there.

    The split file ``split_csv/1cls.csv`` ships in the archive; it is fetched from ``split_url`` only
    when the archive lacks it.

    Args:
        root: Target folder; the categories end up as ``root/<category>``.
        url: Archive location (the official one by default).
        sha256: Expected archive checksum; None skips verification with a warning.
        split_url: Location of the official split file.
        split_sha256: Expected split-file checksum; None skips verification with a warning.
        fetch: ``fetch(url, dest_path)`` replacing the built-in HTTP download.
        keep_archive: Keep the archive after extraction.

    Returns:
        The dataset root to pass to :class:`~winclip_lit.data.VisADataModule`.
    """
    root = Path(root).expanduser()
    if visa_present(root):
        log.info("VisA already present in %s; skipping download", root)
        return root
    download_and_extract(url, root, sha256, fetch, keep_archive)
    _hoist_single_folder(root, VISA_CATEGORIES)
    split = root / VISA_SPLIT_FILE
    if not split.is_file():
        split.parent.mkdir(parents=True, exist_ok=True)
        partial = split.with_name(split.name + ".part")
        (fetch or fetch_url)(split_url, partial)
        verify_checksum(partial, split_sha256)
        os.replace(partial, split)
    if not visa_present(root):
        raise DatasetError(f"the archive from {url} did not produce the VisA layout under {root}")
    return root


def btad_present(root: str | Path) -> bool:
    """Whether every BTAD product has its train/ok and test folders under ``root``."""
    root = Path(root).expanduser()
    return all((root / c / "train" / "ok").is_dir() and (root / c / "test").is_dir() for c in BTAD_CATEGORIES)


def ksdd_present(root: str | Path) -> bool:
    """Whether the KolektorSDD part folders kos01 ... kos50 exist under ``root``."""
    root = Path(root).expanduser()
    return all((root / f"kos{i:02d}").is_dir() for i in range(1, 51))


def ksdd2_present(root: str | Path) -> bool:
    """Whether the KolektorSDD2 train and test folders exist under ``root``."""
    root = Path(root).expanduser()
    return (root / "train").is_dir() and (root / "test").is_dir()


def _download_zip_dataset(
    name: str,
    root: str | Path,
    url: str,
    sha256: str | None,
    filename: str,
    expected: tuple[str, ...],
    present: Callable[[Path], bool],
    fetch: Fetch | None,
    keep_archive: bool,
) -> Path:
    root = Path(root).expanduser()
    if present(root):
        log.info("%s already present in %s; skipping download", name, root)
        return root
    download_and_extract(url, root, sha256, fetch, keep_archive, filename=filename)
    _hoist_single_folder(root, expected)
    if not present(root):
        raise DatasetError(f"the archive from {url} did not produce the {name} layout under {root}")
    return root


def download_btad(
    root: str | Path,
    url: str = BTAD_URL,
    sha256: str | None = BTAD_SHA256,
    fetch: Fetch | None = None,
    keep_archive: bool = False,
) -> Path:
    """Download BTAD (about 1.7 GB) into ``root`` unless it is already there.

    The archive wraps the products in ``BTech_Dataset_transformed/``; they end up as ``root/01`` ...

    Args:
        root: Target folder (the one :class:`~winclip_lit.data.BTADDataModule` reads).
        url: Archive location (the official one by default).
        sha256: Expected archive checksum; None skips verification with a warning.
        fetch: ``fetch(url, dest_path)`` replacing the built-in HTTP download.
        keep_archive: Keep the archive after extraction.
    """
    return _download_zip_dataset(
        "BTAD", root, url, sha256, "btad.zip", BTAD_CATEGORIES, btad_present, fetch, keep_archive
    )


def download_ksdd(
    root: str | Path,
    url: str = KSDD_URL,
    sha256: str | None = KSDD_SHA256,
    fetch: Fetch | None = None,
    keep_archive: bool = False,
) -> Path:
    """Download KolektorSDD (about 0.1 GB, the ViCoS archive with pixel masks) into ``root``.

    Args: as :func:`download_btad`; the part folders end up as ``root/kos01`` ... ``root/kos50``.
    """
    return _download_zip_dataset(
        "KolektorSDD", root, url, sha256, "KolektorSDD.zip", ("kos01",), ksdd_present, fetch, keep_archive
    )


def download_ksdd2(
    root: str | Path,
    url: str = KSDD2_URL,
    sha256: str | None = KSDD2_SHA256,
    fetch: Fetch | None = None,
    keep_archive: bool = False,
) -> Path:
    """Download KolektorSDD2 (about 0.5 GB, the ViCoS archive) into ``root``.

    Args: as :func:`download_btad`; the splits end up as ``root/train`` and ``root/test``.
    """
    return _download_zip_dataset(
        "KolektorSDD2",
        root,
        url,
        sha256,
        "KolektorSDD2.zip",
        ("train", "test"),
        ksdd2_present,
        fetch,
        keep_archive,
    )


#: Where to get the datasets that have no official archive URL, per dataset config name. Every other
#: dataset config ``<name>`` has a helper ``download_<name>`` here, which ``dataset.download=true`` calls.
MANUAL_SOURCES: dict[str, str] = {
    "mpdd": f"download MPDD by hand from {MPDD_SOURCE}",
    "dagm": f"download DAGM 2007 by hand from {DAGM_SOURCE}",
    "dtd_synthetic": f"download DTD-Synthetic by hand from {DTD_SYNTHETIC_SOURCE}",
    "meta_json": "write meta.json with your dataset's generator script (APRIL-GAN/AnomalyCLIP convention)",
    "realiad": f"download Real-IAD by hand from {REALIAD_SOURCE}",
    "mvtec_ad2": f"download MVTec AD 2 by hand from {MVTEC_AD2_SOURCE} (download form)",
    "mvtec_loco": f"download MVTec LOCO AD by hand from {MVTEC_LOCO_SOURCE} (download form)",
}
