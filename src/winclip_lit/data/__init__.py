"""Datasets: MVTec-AD, VisA, MPDD, BTAD, KolektorSDD(2), DAGM, DTD-Synthetic and plain-folder datamodules,
k-shot sampling, download helpers."""

from winclip_lit.data.base import AnomalyDataModule, parse_eval_size
from winclip_lit.data.btad import BTAD_CATEGORIES, BTADDataModule
from winclip_lit.data.dagm import DAGM_CATEGORIES, DAGMDataModule
from winclip_lit.data.dataset import AnomalyTestDataset, TestRecord
from winclip_lit.data.download import (
    BTAD_SHA256,
    BTAD_URL,
    DOWNLOADERS,
    KSDD2_SHA256,
    KSDD2_URL,
    KSDD_SHA256,
    KSDD_URL,
    MANUAL_SOURCES,
    MVTEC_SHA256,
    MVTEC_URL,
    VISA_SHA256,
    VISA_SPLIT_URL,
    VISA_URL,
    download_btad,
    download_ksdd,
    download_ksdd2,
    download_mvtec,
    download_visa,
    safe_extract,
    verify_checksum,
)
from winclip_lit.data.dtd_synthetic import DTD_SYNTHETIC_CATEGORIES, DTDSyntheticDataModule
from winclip_lit.data.errors import DatasetError
from winclip_lit.data.folder import FolderDataModule
from winclip_lit.data.ksdd import KSDDDataModule
from winclip_lit.data.ksdd2 import KSDD2DataModule
from winclip_lit.data.mpdd import MPDD_CATEGORIES, MPDDDataModule
from winclip_lit.data.mvtec import MVTEC_CATEGORIES, MVTecDataModule
from winclip_lit.data.mvtec_layout import MVTecLayoutDataModule
from winclip_lit.data.sampling import hold_out, sample_reference_files
from winclip_lit.data.visa import VISA_CATEGORIES, VisADataModule

__all__ = [
    "BTAD_CATEGORIES",
    "BTAD_SHA256",
    "BTAD_URL",
    "DAGM_CATEGORIES",
    "DOWNLOADERS",
    "DTD_SYNTHETIC_CATEGORIES",
    "KSDD2_SHA256",
    "KSDD2_URL",
    "KSDD_SHA256",
    "KSDD_URL",
    "MANUAL_SOURCES",
    "MPDD_CATEGORIES",
    "MVTEC_CATEGORIES",
    "MVTEC_SHA256",
    "MVTEC_URL",
    "VISA_CATEGORIES",
    "VISA_SHA256",
    "VISA_SPLIT_URL",
    "VISA_URL",
    "AnomalyDataModule",
    "AnomalyTestDataset",
    "BTADDataModule",
    "DAGMDataModule",
    "DTDSyntheticDataModule",
    "DatasetError",
    "FolderDataModule",
    "KSDD2DataModule",
    "KSDDDataModule",
    "MPDDDataModule",
    "MVTecDataModule",
    "MVTecLayoutDataModule",
    "TestRecord",
    "VisADataModule",
    "download_btad",
    "download_ksdd",
    "download_ksdd2",
    "download_mvtec",
    "download_visa",
    "hold_out",
    "parse_eval_size",
    "safe_extract",
    "sample_reference_files",
    "verify_checksum",
]
