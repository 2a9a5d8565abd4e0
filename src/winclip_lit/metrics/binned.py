"""Fixed-threshold histograms for the binned mode (memory independent of the number of pixels).

With ``T`` thresholds ``t_b = b / (T - 1)``, a score ``s`` goes to bin
``b(s) = floor(clamp(s, 0, 1) * (T - 1))`` (float32 arithmetic), so ``s >= t_b`` iff
``b(s) >= b`` up to float rounding. Binned metrics are exactly the exact metrics of the
quantised scores ``b(s)``.
"""

from __future__ import annotations

import torch
from torch import Tensor

from winclip_lit.metrics.regions import region_weights


def bin_index(scores: Tensor, num_thresholds: int) -> Tensor:
    """Maps scores to bins 0..T-1; values outside [0, 1] are clamped."""
    return (scores.float().clamp(0.0, 1.0) * (num_thresholds - 1)).floor_().long()


def histograms(
    scores: Tensor, target: Tensor, num_thresholds: int, rows: bool = False, regions: bool = False
) -> dict[str, Tensor]:
    """Counts per bin of a batch.

    Args:
        scores: Float scores, any shape; (B, H, W) when ``regions``.
        target: Binary labels or masks, same shape.
        num_thresholds: Number of bins T.
        rows: If True, one histogram per sample (first dim), shape (B, T); else shape (T,).
        regions: If True, also the summed 1/region-area of the anomalous pixels per bin and the
            number of regions (per sample when ``rows``).

    Returns:
        ``neg_hist`` and ``pos_hist`` (int64), plus ``weight_hist`` (float64) and ``regions``
        (int64) when ``regions``.
    """
    scores, target = scores.detach(), target.detach()
    bins = bin_index(scores, num_thresholds)
    size = num_thresholds
    if rows:
        offsets = torch.arange(len(bins), device=bins.device) * num_thresholds
        bins = bins + offsets.view(-1, *([1] * (bins.ndim - 1)))
        size *= len(bins)
    bins, positive = bins.reshape(-1), target.reshape(-1).bool()
    shape = (-1, num_thresholds) if rows else (num_thresholds,)
    out = {
        "neg_hist": torch.bincount(bins[~positive], minlength=size).view(shape),
        "pos_hist": torch.bincount(bins[positive], minlength=size).view(shape),
    }
    if regions:
        weights, per_image = region_weights(target.cpu().numpy())
        weights = torch.from_numpy(weights).to(scores.device)
        out["weight_hist"] = torch.bincount(bins[positive], weights=weights, minlength=size).view(shape)
        per_image = torch.from_numpy(per_image).to(scores.device)
        out["regions"] = per_image if rows else per_image.sum()
    return out
