"""Datasets: MVTec-AD, VisA and plain-folder datamodules, k-shot sampling, download helpers."""

from winclip_lit.data.base import AnomalyDataModule, parse_eval_size
from winclip_lit.data.dataset import AnomalyTestDataset, TestRecord
from winclip_lit.data.download import (
    MVTEC_SHA256,
    MVTEC_URL,
    VISA_SHA256,
    VISA_SPLIT_URL,
    VISA_URL,
    download_mvtec,
    download_visa,
    safe_extract,
    verify_checksum,
)
from winclip_lit.data.errors import DatasetError
from winclip_lit.data.folder import FolderDataModule
from winclip_lit.data.mvtec import MVTEC_CATEGORIES, MVTecDataModule
from winclip_lit.data.sampling import sample_reference_files
from winclip_lit.data.visa import VISA_CATEGORIES, VisADataModule

__all__ = [
    "MVTEC_CATEGORIES",
    "MVTEC_SHA256",
    "MVTEC_URL",
    "VISA_CATEGORIES",
    "VISA_SHA256",
    "VISA_SPLIT_URL",
    "VISA_URL",
    "AnomalyDataModule",
    "AnomalyTestDataset",
    "DatasetError",
    "FolderDataModule",
    "MVTecDataModule",
    "TestRecord",
    "VisADataModule",
    "download_mvtec",
    "download_visa",
    "parse_eval_size",
    "safe_extract",
    "sample_reference_files",
    "verify_checksum",
]
