"""Gathers stored (scores, labels) chunks into sorted negatives and positives, chunk by chunk."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from torch import Tensor

from winclip_lit.metrics.ranking import RankCurve, curve_from_scores
from winclip_lit.metrics.regions import region_weights

# Rows are converted and labelled in chunks of about this many pixels to bound temporaries.
_CHUNK_PIXELS = 1 << 22


@dataclass(frozen=True)
class Split:
    """Scores split by class.

    Attributes:
        neg_sorted: Negative scores, ascending.
        pos: Positive scores, in storage order.
        pos_weights: 1 / region area of each positive pixel, or None.
        n_regions: Number of ground-truth regions (0 when not computed).
    """

    neg_sorted: np.ndarray
    pos: np.ndarray
    pos_weights: np.ndarray | None
    n_regions: int

    def curve(self) -> RankCurve:
        """The exact ranking curve of this split."""
        return curve_from_scores(self.neg_sorted, self.pos, self.pos_weights)


def split_by_class(
    preds: Tensor | list[Tensor],
    target: Tensor | list[Tensor],
    keep: np.ndarray | None = None,
    regions: bool = False,
) -> Split:
    """Splits stored scores into negatives and positives without concatenating the states.

    Args:
        preds: Stored scores: one tensor or a list of tensors (first dim = samples).
        target: Stored binary labels/masks matching ``preds``.
        keep: Optional boolean mask over samples (all chunks concatenated); False rows are skipped.
        regions: If True, also computes region weights; ``target`` rows must be (H, W) masks.

    Returns:
        The split, with one float64 weight per positive when ``regions``.
    """
    n_pos = n_all = 0
    dtype = np.float32
    for scores, mask in _chunks(preds, target, keep):
        n_pos += int(np.count_nonzero(mask))
        n_all += mask.size
        dtype = scores.dtype
    neg = np.empty(n_all - n_pos, dtype=dtype)
    pos = np.empty(n_pos, dtype=dtype)
    weights = np.empty(n_pos, dtype=np.float64) if regions else None
    n_regions = i_neg = i_pos = 0
    for scores, mask in _chunks(preds, target, keep):
        chunk_neg, chunk_pos = scores[~mask], scores[mask]
        neg[i_neg : i_neg + len(chunk_neg)] = chunk_neg
        pos[i_pos : i_pos + len(chunk_pos)] = chunk_pos
        if weights is not None:
            chunk_weights, per_image = region_weights(mask)
            weights[i_pos : i_pos + len(chunk_pos)] = chunk_weights
            n_regions += int(per_image.sum())
        i_neg += len(chunk_neg)
        i_pos += len(chunk_pos)
    neg.sort()
    return Split(neg, pos, weights, n_regions)


def _chunks(
    preds: Tensor | list[Tensor], target: Tensor | list[Tensor], keep: np.ndarray | None
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    preds = preds if isinstance(preds, list) else [preds]
    target = target if isinstance(target, list) else [target]
    start = 0
    for p, t in zip(preds, target, strict=True):
        step = max(1, _CHUNK_PIXELS // max(1, p[0].numel())) if len(p) else 1
        for i in range(0, len(p), step):
            scores = p[i : i + step].detach().cpu().numpy()
            mask = t[i : i + step].detach().cpu().numpy()
            mask = mask.view(np.bool_) if mask.dtype == np.uint8 else mask.astype(bool)
            if keep is not None:
                rows = keep[start + i : start + i + len(scores)]
                if not rows.any():  # a chunk with no sample kept (a subset, DDP repeats) adds nothing
                    continue
                if not rows.all():
                    scores, mask = scores[rows], mask[rows]
            yield scores, mask
        start += len(p)
