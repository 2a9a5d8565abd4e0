"""Where every dataset comes from (:data:`DATASET_SOURCES`, one entry per dataset config) and the one
function that downloads, verifies and safely extracts those with an official archive URL (for users with
network access): MVTec-AD, VisA, BTAD, KolektorSDD and KolektorSDD2.

The other entries have no URL: their ``where`` line says how to get the data by hand.
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
from dataclasses import dataclass, replace
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


@dataclass(frozen=True)
class ExtraFile:
    """A file fetched on its own after extraction when the archive lacks it (VisA's split CSV).

    Attributes:
        path: Where it goes, relative to the dataset root.
        url: Where it is fetched from.
        sha256: Expected checksum; None skips verification with a warning.
    """

    path: str
    url: str
    sha256: str | None = None


@dataclass(frozen=True)
class DatasetSource:
    """Where one dataset comes from and what a complete copy of it looks like under ``dataset.root``.

    Attributes:
        title: The dataset's name in messages.
        where: Where to get it and under which licence (the line shown when it must be fetched by hand).
        url: Official archive URL; None when the dataset can only be fetched by hand.
        sha256: Expected archive checksum; None skips verification with a warning.
        archive: File name the archive is saved under in the root (needed when the URL has none); its
            suffix is the archive kind (``.tar``, ``.tar.xz``: tar of any compression; ``.zip``).
        layout: Folders a complete copy has, relative to the root. Their top names are how the archive
            maps onto the root: extracted in place, or, when the archive wraps them in one folder, moved
            up out of it.
        extras: Files fetched after extraction when the archive lacks them.
    """

    title: str
    where: str
    url: str | None = None
    sha256: str | None = None
    archive: str | None = None
    layout: tuple[str, ...] = ()
    extras: tuple[ExtraFile, ...] = ()

    def is_present(self, root: str | Path) -> bool:
        """Whether every layout folder and every extra file exist under ``root``."""
        root = Path(root).expanduser()
        folders = all((root / path).is_dir() for path in self.layout)
        return folders and all((root / extra.path).is_file() for extra in self.extras)


#: Every dataset config ``<name>`` (``conf/dataset/<name>.yaml``) has exactly one entry here;
#: ``dataset.download=true`` calls :func:`download_dataset` for those with a URL. The checksums are the
#: values anomalib's downloader records (we could not download the archives to verify them); none is
#: recorded for KolektorSDD2 or VisA's standalone split file, whose downloads are not verified.
DATASET_SOURCES: dict[str, DatasetSource] = {
    "mvtec": DatasetSource(
        "MVTec-AD",
        "https://www.mvtec.com/company/research/datasets/mvtec-ad (CC BY-NC-SA 4.0), about 5 GB",
        url="https://www.mydrive.ch/shares/38536/3830184030e49fe74747669442f0f282/download/420938113-1629952094/"
        "mvtec_anomaly_detection.tar.xz",
        sha256="cf4313b13603bec67abb49ca959488f7eedce2a9f7795ec54446c649ac98cd3d",
        layout=tuple(f"{c}/{split}" for c in MVTEC_CATEGORIES for split in ("train/good", "test")),
    ),
    "visa": DatasetSource(
        "VisA",
        "https://github.com/amazon-science/spot-diff (CC BY 4.0, not re-checked here), about 1.8 GB, raw release layout",
        url="https://amazon-visual-anomaly.s3.us-west-2.amazonaws.com/VisA_20220922.tar",
        sha256="2eb8690c803ab37de0324772964100169ec8ba1fa3f7e94291c9ca673f40f362",
        layout=tuple(f"{c}/Data" for c in VISA_CATEGORIES),
        extras=(
            ExtraFile(
                VISA_SPLIT_FILE,
                "https://amazon-visual-anomaly.s3.us-west-2.amazonaws.com/VisA/split_csv/1cls.csv",
            ),
        ),
    ),
    "btad": DatasetSource(
        "BTAD",
        "https://avires.dimi.uniud.it/papers/btad/btad.zip (CC BY-NC-SA 4.0), about 1.7 GB",
        url="https://avires.dimi.uniud.it/papers/btad/btad.zip",
        sha256="461c9387e515bfed41ecaae07c50cf6b10def647b36c9e31d239ab2736b10d2a",
        archive="btad.zip",
        layout=tuple(f"{c}/{split}" for c in BTAD_CATEGORIES for split in ("train/ok", "test")),
    ),
    "ksdd": DatasetSource(
        "KolektorSDD",
        "https://www.vicos.si/resources/kolektorsdd/ (CC BY-NC-SA 4.0), about 0.1 GB with pixel masks",
        url="https://go.vicos.si/kolektorsdd",
        sha256="65dc621693418585de9c4467d1340ea7958a6181816f0dc2883a1e8b61f9d4dc",
        archive="KolektorSDD.zip",
        layout=tuple(f"kos{i:02d}" for i in range(1, 51)),
    ),
    "ksdd2": DatasetSource(
        "KolektorSDD2",
        "https://www.vicos.si/resources/kolektorsdd2/ (CC BY-NC-SA 4.0), about 0.5 GB",
        url="https://go.vicos.si/kolektorsdd2",
        archive="KolektorSDD2.zip",
        layout=("train", "test"),
    ),
    "mpdd": DatasetSource("MPDD", f"download MPDD by hand from {MPDD_SOURCE}"),
    "dagm": DatasetSource("DAGM 2007", f"download DAGM 2007 by hand from {DAGM_SOURCE}"),
    "dtd_synthetic": DatasetSource(
        "DTD-Synthetic", f"download DTD-Synthetic by hand from {DTD_SYNTHETIC_SOURCE}"
    ),
    "meta_json": DatasetSource(
        "meta.json",
        "write meta.json with your dataset's generator script (APRIL-GAN/AnomalyCLIP convention)",
    ),
    "realiad": DatasetSource("Real-IAD", f"download Real-IAD by hand from {REALIAD_SOURCE}"),
    # The medical sets of the zero-shot table, read as meta.json folders (docs/data.md "Medical sets"); each
    # is distributed by its authors under its own terms, and converted with AnomalyCLIP's / AdaCLIP's scripts.
    **{
        name: DatasetSource(
            title,
            f"download {title} by hand ({origin}) and write its meta.json with the "
            "AnomalyCLIP/AdaCLIP generator script",
        )
        for name, title, origin in (
            ("headct", "HeadCT", "Kaggle 'Head CT - hemorrhage'"),
            ("brainmri", "BrainMRI", "Kaggle 'Brain MRI Images for Brain Tumor Detection'"),
            ("br35h", "Br35H", "Kaggle 'Br35H :: Brain Tumor Detection 2020'"),
            ("isic", "ISIC", "ISIC 2016 challenge, lesion segmentation part"),
            (
                "colondb",
                "CVC-ColonDB",
                "Bernal et al. 2012, as shared with the polyp segmentation benchmarks",
            ),
            ("clinicdb", "CVC-ClinicDB", "Bernal et al. 2015, the CVC-ClinicDB polyp set"),
            ("kvasir", "Kvasir", "Kvasir-SEG by Simula"),
            ("endo", "Endo", "the endoscopy set of the AdaCLIP data preparation"),
            ("tn3k", "TN3K", "Gong et al. 2021, thyroid nodule ultrasound"),
        )
    },
    "mvtec_ad2": DatasetSource(
        "MVTec AD 2", f"download MVTec AD 2 by hand from {MVTEC_AD2_SOURCE} (download form)"
    ),
    "mvtec_loco": DatasetSource(
        "MVTec LOCO AD", f"download MVTec LOCO AD by hand from {MVTEC_LOCO_SOURCE} (download form)"
    ),
    "folder": DatasetSource("dataset=folder", "point dataset.normal_dir at your own folder of normal images"),
}


def download_dataset(
    name: str,
    root: str | Path,
    fetch: Fetch | None = None,
    keep_archive: bool = False,
    **overrides: object,
) -> Path:
    """Download dataset ``name`` (a :data:`DATASET_SOURCES` key) into ``root`` unless it is already there.

    Args:
        name: Dataset config name, e.g. ``"mvtec"``.
        root: Target folder, the ``dataset.root`` its datamodule reads.
        fetch: ``fetch(url, dest_path)`` replacing the built-in HTTP download (e.g. a mirror client).
        keep_archive: Keep the archive after extraction.
        **overrides: :class:`DatasetSource` fields to replace, e.g. ``url=<mirror>``, ``sha256=None``
            (skip verification with a warning).

    Returns:
        The dataset root.

    Raises:
        DatasetError: Unknown name, a dataset fetched only by hand, a checksum mismatch, an unsafe or
            unreadable archive, or an archive that does not produce the dataset's layout.
    """
    if name not in DATASET_SOURCES:
        raise DatasetError(f"unknown dataset {name!r}; choose one of {', '.join(sorted(DATASET_SOURCES))}")
    source = replace(DATASET_SOURCES[name], **overrides)
    root = Path(root).expanduser()
    if source.url is None:
        raise DatasetError(f"{source.title} has no download URL; {source.where}")
    if source.is_present(root):
        log.info("%s already present in %s; skipping download", source.title, root)
        return root
    download_and_extract(source.url, root, source.sha256, fetch, keep_archive, filename=source.archive)
    _hoist_single_folder(root, dict.fromkeys(path.split("/")[0] for path in source.layout))
    for extra in source.extras:
        target = root / extra.path
        if not target.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(target.name + ".part")
            (fetch or fetch_url)(extra.url, partial)
            verify_checksum(partial, extra.sha256)
            os.replace(partial, target)
    if not source.is_present(root):
        raise DatasetError(
            f"the archive from {source.url} did not produce the {source.title} layout under {root}"
        )
    return root
