"""MVTec LOCO AD (Bergmann et al., IJCV 2022) in its release layout.

``root/<category>/{train/good, validation/good, test/{good, logical_anomalies, structural_anomalies}}``;
the masks of ``test/<type>/<id>.png`` are ``ground_truth/<type>/<id>/000.png, 001.png ...``, one file per
defect region, OR-ed into one mask. Each record's ``defect`` is its anomaly type (``logical_anomalies`` or
``structural_anomalies``), so metrics can be split by type as the LOCO papers report them.
"""

from __future__ import annotations

from pathlib import Path

from winclip_lit.data.dataset import TestRecord
from winclip_lit.data.errors import DatasetError
from winclip_lit.data.io import is_image_file
from winclip_lit.data.mvtec_layout import MVTecLayoutDataModule

MVTEC_LOCO_CATEGORIES = ("breakfast_box", "juice_bottle", "pushpins", "screw_bag", "splicing_connectors")
MVTEC_LOCO_ANOMALY_TYPES = ("logical_anomalies", "structural_anomalies")
#: Where MVTec LOCO AD can be had (CC BY-NC-SA 4.0).
MVTEC_LOCO_SOURCE = "https://www.mvtec.com/company/research/datasets/mvtec-loco"


class MVTecLOCODataModule(MVTecLayoutDataModule):
    """MVTec LOCO AD test sets (all masks of an image OR-ed) and k-shot references from ``train/good``.

    Args: see :class:`~winclip_lit.data.base.AnomalyDataModule`.
    """

    dataset_name = "MVTec LOCO AD"
    known_categories = MVTEC_LOCO_CATEGORIES
    mask_example = "{stem}/000.png"
    download_hint = (
        f"download MVTec LOCO AD from {MVTEC_LOCO_SOURCE}, extract it and point root at the folder that "
        "holds breakfast_box/, juice_bottle/, ..."
    )
    reextract_hint = "re-extract it"
    #: Anomaly types whose metrics are reported beside the total (docs/metrics.md).
    reported_defect_types = MVTEC_LOCO_ANOMALY_TYPES

    def _anomalous_record(self, image: Path, gt_dir: Path, defect: str) -> TestRecord:
        folder = gt_dir / image.stem
        masks = (
            sorted((p for p in folder.iterdir() if is_image_file(p)), key=lambda p: p.name)
            if folder.is_dir()
            else []
        )
        if not masks:
            raise DatasetError(
                f"test image {image} has no mask: expected "
                f"{gt_dir / self.mask_example.format(stem=image.stem)} (one file per defect "
                "region); restore the ground_truth folder (re-extract the dataset)"
            )
        return TestRecord(image, masks[0], 1, defect, tuple(masks[1:]))
