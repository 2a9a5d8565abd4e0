"""Datasets: MVTec-AD, VisA, MPDD, BTAD, KolektorSDD, KolektorSDD2, DAGM 2007, DTD-Synthetic, MVTec AD 2,
MVTec LOCO AD, Real-IAD, meta.json and plain-folder datamodules, k-shot sampling, the table of dataset sources
and its downloader.

Names load lazily, so ``import winclip_lit.data`` (or ``winclip_lit.data.errors``) imports neither
Lightning, open_clip nor W&B until a datamodule is used.
"""

from __future__ import annotations

from winclip_lit.lazy import lazy_exports

_EXPORTS = {
    "AnomalyDataModule": "winclip_lit.data.base",
    "AnomalyTestDataset": "winclip_lit.data.dataset",
    "BTADDataModule": "winclip_lit.data.btad",
    "BTAD_CATEGORIES": "winclip_lit.data.btad",
    "DATASET_SOURCES": "winclip_lit.data.download",
    "DAGMDataModule": "winclip_lit.data.dagm",
    "DAGM_CATEGORIES": "winclip_lit.data.dagm",
    "DTDSyntheticDataModule": "winclip_lit.data.dtd_synthetic",
    "DTD_SYNTHETIC_CATEGORIES": "winclip_lit.data.dtd_synthetic",
    "DatasetError": "winclip_lit.data.errors",
    "DatasetSource": "winclip_lit.data.download",
    "FolderDataModule": "winclip_lit.data.folder",
    "KSDD2DataModule": "winclip_lit.data.ksdd2",
    "KSDDDataModule": "winclip_lit.data.ksdd",
    "MVTEC_AD2_CATEGORIES": "winclip_lit.data.mvtec_ad2",
    "MVTEC_LOCO_CATEGORIES": "winclip_lit.data.mvtec_loco",
    "MVTecAD2DataModule": "winclip_lit.data.mvtec_ad2",
    "MVTecLOCODataModule": "winclip_lit.data.mvtec_loco",
    "MetaJsonDataModule": "winclip_lit.data.meta_json",
    "REALIAD_CATEGORIES": "winclip_lit.data.realiad",
    "RealIADDataModule": "winclip_lit.data.realiad",
    "MPDDDataModule": "winclip_lit.data.mpdd",
    "MPDD_CATEGORIES": "winclip_lit.data.mpdd",
    "MVTEC_CATEGORIES": "winclip_lit.data.mvtec",
    "MVTecDataModule": "winclip_lit.data.mvtec",
    "MVTecLayoutDataModule": "winclip_lit.data.mvtec_layout",
    "TestRecord": "winclip_lit.data.dataset",
    "VISA_CATEGORIES": "winclip_lit.data.visa",
    "VisADataModule": "winclip_lit.data.visa",
    "download_dataset": "winclip_lit.data.download",
    "hold_out": "winclip_lit.data.sampling",
    "parse_eval_size": "winclip_lit.data.base",
    "safe_extract": "winclip_lit.data.download",
    "sample_reference_files": "winclip_lit.data.sampling",
    "verify_checksum": "winclip_lit.data.download",
}

__getattr__, __dir__, __all__ = lazy_exports(__name__, _EXPORTS)
