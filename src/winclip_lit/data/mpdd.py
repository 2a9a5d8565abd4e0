"""MPDD (Metal Parts Defect Detection, Jezek et al., ICUMT 2021) in its release layout.

The release follows MVTec-AD: ``root/<category>/{train/good, test/<defect>, ground_truth/<defect>/<stem>_mask.png}``
with RGB PNG images; ``root`` is the folder that holds ``bracket_black/``, ``bracket_brown/``, ...
"""

from __future__ import annotations

from winclip_lit.data.mvtec_layout import MVTecLayoutDataModule

MPDD_CATEGORIES = (
    "bracket_black",
    "bracket_brown",
    "bracket_white",
    "connector",
    "metal_plate",
    "tubes",
)
#: Where MPDD can be had: the authors publish it only through a OneDrive folder linked from GitHub.
MPDD_SOURCE = "https://github.com/stepanje/MPDD (OneDrive link in its README)"


class MPDDDataModule(MVTecLayoutDataModule):
    """MPDD test sets and k-shot references (drawn from ``train/good``).

    Args: see :class:`~winclip_lit.data.base.AnomalyDataModule`.
    """

    dataset_name = "MPDD"
    known_categories = MPDD_CATEGORIES
    download_hint = (
        f"download MPDD from {MPDD_SOURCE}, extract it and point root at the folder that holds "
        "bracket_black/, bracket_brown/, ..."
    )
    reextract_hint = f"re-extract it (from {MPDD_SOURCE})"
