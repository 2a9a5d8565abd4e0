"""DTD-Synthetic (Aota et al., "Zero-shot versus many-shot: unsupervised texture anomaly detection",
WACV 2023): 12 textures of the Describable Textures Dataset with synthetic defects.

The release follows MVTec-AD: ``root/<texture>/{train/good, test/good, test/bad, ground_truth/bad/*}``.
Masks are accepted as ``<stem>_mask.<ext>`` or ``<stem>.<ext>`` because public descriptions differ.
"""

from __future__ import annotations

from winclip_lit.data.mvtec_layout import MVTecLayoutDataModule

DTD_SYNTHETIC_CATEGORIES = (
    "Blotchy_099",
    "Fibrous_183",
    "Marbled_078",
    "Matted_069",
    "Mesh_114",
    "Perforated_037",
    "Stratified_154",
    "Woven_001",
    "Woven_068",
    "Woven_104",
    "Woven_125",
    "Woven_127",
)
#: Where DTD-Synthetic can be had: the authors' Google Drive folder (no direct archive URL).
DTD_SYNTHETIC_SOURCE = "https://drive.google.com/drive/folders/10OyPzvI3H6llCZBxKxFlKWt1Pw1tkMK1"


class DTDSyntheticDataModule(MVTecLayoutDataModule):
    """DTD-Synthetic test sets and k-shot references (drawn from ``train/good``).

    Args: see :class:`~winclip_lit.data.base.AnomalyDataModule`.
    """

    dataset_name = "DTD-Synthetic"
    known_categories = DTD_SYNTHETIC_CATEGORIES
    download_hint = (
        f"download DTD-Synthetic from {DTD_SYNTHETIC_SOURCE}, extract it and point root at the folder "
        "that holds Blotchy_099/, Fibrous_183/, ..."
    )
    reextract_hint = "re-extract it"
