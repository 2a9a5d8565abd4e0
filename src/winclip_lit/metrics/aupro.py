"""AUPRO: normalised area under the per-region-overlap curve up to a false positive rate limit."""

from __future__ import annotations

from typing import Any

from torch import Tensor

from winclip_lit.metrics.base import CurveMetric
from winclip_lit.metrics.ranking import RankCurve, aupro
from winclip_lit.metrics.validation import check_fpr_limit


class AUPRO(CurveMetric):
    """AUPRO exactly as defined for MVTec AD.

    Regions are the 8-connected components of each mask (never spanning two images). All pixel
    scores are ranked once, every distinct score is a threshold; FPR is taken over all normal
    pixels and PRO is the mean over all regions of the fraction of the region at/above the
    threshold. The trapezoidal area up to ``fpr_limit`` (linear interpolation at the limit) is
    divided by ``fpr_limit``. NaN with a warning when there is no region or no normal pixel.

    Args:
        fpr_limit: Integration limit in (0, 1].
        mode: ``"exact"`` or ``"binned"`` (per-bin counts and 1/area sums; see docs/metrics.md).
        num_thresholds: Number of thresholds in binned mode.
        **kwargs: Passed to :class:`torchmetrics.Metric` (e.g. ``compute_on_cpu``).
    """

    input_names = ("anomaly_maps", "masks")
    input_ndim = 3
    needs_regions = True

    def __init__(
        self, fpr_limit: float = 0.3, mode: str = "exact", num_thresholds: int = 1000, **kwargs: Any
    ) -> None:
        check_fpr_limit(fpr_limit)
        super().__init__(mode=mode, num_thresholds=num_thresholds, **kwargs)
        self.fpr_limit = fpr_limit

    def update(self, anomaly_maps: Tensor, masks: Tensor) -> None:
        """Accumulates anomaly maps (B, H, W) and binary masks (B, H, W)."""
        super().update(anomaly_maps, masks)

    def value(self, curve: RankCurve, n_regions: int) -> float:
        """Reads the normalised PRO area off the region-weighted curve."""
        return aupro(curve, n_regions, self.fpr_limit)
