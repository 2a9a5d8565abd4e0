"""MVTec-AD: ``root/<category>/{train/good, test/<defect>, ground_truth/<defect>/<stem>_mask.png}``."""

from __future__ import annotations

from winclip_lit.data.mvtec_layout import MVTecLayoutDataModule

MVTEC_CATEGORIES = (
    "bottle",
    "cable",
    "capsule",
    "carpet",
    "grid",
    "hazelnut",
    "leather",
    "metal_nut",
    "pill",
    "screw",
    "tile",
    "toothbrush",
    "transistor",
    "wood",
    "zipper",
)


class MVTecDataModule(MVTecLayoutDataModule):
    """MVTec-AD test sets and k-shot references (drawn from ``train/good``).

    Args: see :class:`~winclip_lit.data.base.AnomalyDataModule`.
    """

    dataset_name = "MVTec-AD"
    known_categories = MVTEC_CATEGORIES
    download_hint = (
        "download and extract MVTec-AD there with winclip_lit.data.download_dataset('mvtec', root), "
        "or point root at the folder that holds bottle/, cable/, ..."
    )
    reextract_hint = "re-extract it (download_dataset('mvtec', root))"
