"""Shared torchmetrics machinery: exact (stored scores) or binned (histograms) accumulation."""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

import torch
from torch import Tensor
from torchmetrics import Metric

from winclip_lit.metrics.binned import histograms
from winclip_lit.metrics.ranking import RankCurve, curve_from_histograms
from winclip_lit.metrics.split import split_by_class
from winclip_lit.metrics.validation import check_mode, check_pair


class CurveMetric(Metric):
    """A metric read off the ranking curve of (score, binary label) pairs.

    ``mode="exact"`` stores the scores (``score_dtype``, float32 by default) and labels (uint8);
    ``mode="binned"`` keeps only per-bin counts over ``num_thresholds`` fixed thresholds in [0, 1].
    Subclasses implement :meth:`value`.
    """

    is_differentiable = False
    higher_is_better = True
    full_state_update = False
    input_names: tuple[str, str] = ("preds", "target")
    input_ndim: int | None = None
    needs_regions = False

    def __init__(
        self,
        mode: str = "exact",
        num_thresholds: int = 1000,
        score_dtype: torch.dtype = torch.float32,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        check_mode(mode, num_thresholds)
        self.mode, self.num_thresholds, self.score_dtype = mode, num_thresholds, score_dtype
        if mode == "exact":
            self.add_state("preds", default=[], dist_reduce_fx="cat")
            self.add_state("target", default=[], dist_reduce_fx="cat")
            return
        for name in ("neg_hist", "pos_hist"):
            self.add_state(name, default=torch.zeros(num_thresholds, dtype=torch.int64), dist_reduce_fx="sum")
        if self.needs_regions:
            zeros = torch.zeros(num_thresholds, dtype=torch.float64)
            self.add_state("weight_hist", default=zeros, dist_reduce_fx="sum")
            self.add_state("regions", default=torch.zeros((), dtype=torch.int64), dist_reduce_fx="sum")

    def update(self, preds: Tensor, target: Tensor) -> None:
        """Accumulates a batch of scores and binary labels of the same shape."""
        check_pair(preds, target, self.input_names, self.input_ndim)
        if self.mode == "exact":
            self.preds.append(preds.detach().to(self.score_dtype, copy=True))
            self.target.append(target.detach().to(torch.uint8, copy=True))
            return
        counts = histograms(preds, target, self.num_thresholds, regions=self.needs_regions)
        for name, value in counts.items():
            setattr(self, name, getattr(self, name) + value)

    def compute(self) -> Tensor:
        """Returns the metric as a float64 scalar tensor (NaN with a warning when undefined)."""
        if self.mode == "exact":
            split = split_by_class(self.preds, self.target, regions=self.needs_regions)
            return torch.tensor(self.value(split.curve(), split.n_regions), dtype=torch.float64)
        weight_hist = self.weight_hist.cpu().numpy() if self.needs_regions else None
        curve = curve_from_histograms(self.neg_hist.cpu().numpy(), self.pos_hist.cpu().numpy(), weight_hist)
        n_regions = int(self.regions) if self.needs_regions else 0
        return torch.tensor(self.value(curve, n_regions), dtype=torch.float64)

    @abstractmethod
    def value(self, curve: RankCurve, n_regions: int) -> float:
        """Reads the metric off the curve."""
