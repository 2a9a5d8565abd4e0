"""Per category: which metrics its test set defines and which anomaly types are reported separately."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING

from omegaconf import DictConfig

from winclip_lit.engine.build import build_metrics

if TYPE_CHECKING:
    from winclip_lit.data import AnomalyDataModule
    from winclip_lit.metrics import AnomalyMetrics


def metrics_for(
    cfg: DictConfig, datamodule: AnomalyDataModule, category: str, current: AnomalyMetrics
) -> AnomalyMetrics:
    """``current``, or new metrics when ``category``'s masks call for the other kind (pixel or not)."""
    pixel = datamodule.has_masks(category)
    return current if current.pixel == pixel else build_metrics(cfg.metrics, pixel=pixel)


def has_both_labels(datamodule: AnomalyDataModule, category: str) -> bool:
    """Whether ``category``'s test set has normal and anomalous images (image metrics defined)."""
    return bool(datamodule.has_both_labels(category))


def defect_groups(datamodule: AnomalyDataModule, category: str) -> dict[str, list[int]]:
    """Sample ids (dataset indices) of each separately reported anomaly type with the normal images;
    empty unless the dataset reports types (``reported_defect_types``: MVTec LOCO)."""
    from winclip_lit.metrics.defect_types import defect_type_samples

    types = datamodule.reported_defect_types
    if not types:
        return {}
    records = datamodule.test_records(category)
    return defect_type_samples({i: r.defect for i, r in enumerate(records)}, types)


@contextlib.contextmanager
def quiet_undefined_image_metrics(datamodule: AnomalyDataModule, category: str) -> Iterator[None]:
    """Silence the image metrics' "undefined" warnings of a category without normal test images: the
    datamodule says so once, and those metrics are left out of its results."""
    with warnings.catch_warnings():
        if not has_both_labels(datamodule, category):
            warnings.filterwarnings("ignore", message=r".*undefined \(needs both positive and negative")
        yield
