"""BTAD (beanTech Anomaly Detection, Mishra et al., ICIP 2021) as its archive extracts.

``btad.zip`` extracts to ``BTech_Dataset_transformed/{01,02,03}``; each product follows MVTec-AD with
``ok`` for normal and ``ko`` for defective images: ``train/ok``, ``test/ok``, ``test/ko`` and
``ground_truth/ko/<stem>.<ext>``. Extensions differ per product (product 01 has BMP images with
PNG masks, 02 PNG images and masks, 03 BMP images and masks); every image extension is accepted for
images and masks, and ``<stem>_mask.<ext>`` masks too.
"""

from __future__ import annotations

from collections.abc import Iterable

from winclip_lit.data.mvtec_layout import MVTecLayoutDataModule

BTAD_CATEGORIES = ("01", "02", "03")


class BTADDataModule(MVTecLayoutDataModule):
    """BTAD test sets and k-shot references (drawn from ``train/ok``).

    Category names are the product folders ``01``, ``02``, ``03``; integers (``1``, or ``01`` read as
    a number by a config parser) are accepted and zero-padded.

    Args: see :class:`~winclip_lit.data.base.AnomalyDataModule`.
    """

    dataset_name = "BTAD"
    known_categories = BTAD_CATEGORIES
    normal_dir = "ok"
    mask_example = "{stem}.png"
    download_hint = (
        "download and extract BTAD there with winclip_lit.data.download_dataset('btad', root), or point root at "
        "the BTech_Dataset_transformed folder that holds 01/, 02/, 03/"
    )
    reextract_hint = "re-extract it (download_dataset('btad', root))"

    def _resolve_categories(self, categories: str | Iterable[str]) -> list[str]:
        if isinstance(categories, int) and not isinstance(categories, bool):
            categories = [categories]
        if not isinstance(categories, str):
            categories = [_padded(c) for c in categories]
        elif categories.strip().lower() != "all":
            categories = [_padded(c) for c in categories.split(",") if c.strip()]
        return super()._resolve_categories(categories)


def _padded(name: object) -> str:
    text = str(name).strip()
    return text.zfill(2) if text.isdigit() and len(text) < 2 else text
