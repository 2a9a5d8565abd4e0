"""User-facing container of all evaluation metrics, with DDP de-duplication by sample id."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor
from torchmetrics import Metric, MetricCollection
from torchmetrics.utilities.prints import rank_zero_warn

from winclip_lit.metrics.aupro import AUPRO
from winclip_lit.metrics.binned import histograms
from winclip_lit.metrics.classification import AUROC, AveragePrecision, F1Max, TNRAtFNR, TPRAtFPR
from winclip_lit.metrics.curves import Curve, all_curves
from winclip_lit.metrics.keys import HEADLINE_KEYS, MAD_KEY, OPERATING_POINTS
from winclip_lit.metrics.operating_points import operating_points
from winclip_lit.metrics.ranking import (
    RankCurve,
    aupro,
    auroc,
    average_precision,
    curve_from_histograms,
    f1_max,
)
from winclip_lit.metrics.split import split_by_class
from winclip_lit.metrics.validation import check_fpr_limit, check_max_exact_gb, check_mode, check_pair

# Per-sample pixel states of the binned mode and their dtypes.
_PIXEL_HISTS = {
    "neg_hist": torch.int32,
    "pos_hist": torch.int32,
    "weight_hist": torch.float64,
    "regions": torch.int64,
}

# Stored maps are binned this many pixels at a time when exact mode gives way to binned mode.
_CHUNK_PIXELS = 1 << 22

EXACT_BYTES_PER_PIXEL = 10
"""Peak memory of the exact pixel metrics per pixel: 5 B stored (float32 score + uint8 mask) plus about
5 B in ``compute()`` (4 B per sorted normal score, ~32 B per anomalous pixel at a few percent anomalous
pixels, as in MVTec-AD). ``max_exact_gb`` is compared with this estimate."""

DEFAULT_MAX_EXACT_GB = 4.0
"""Default cap of the exact pixel metrics' estimated peak memory per category, in GB (1e9 bytes)."""


class BinnedFallbackWarning(UserWarning):
    """Exact pixel metrics switched to binned mode because their memory would pass ``max_exact_gb``."""


@dataclass(frozen=True)
class _Samples:
    """The image states of one computation, their sample ids (empty without) and which samples count
    (the first occurrence of each id; None: all)."""

    scores: Tensor
    labels: Tensor
    ids: np.ndarray
    keep: np.ndarray | None


@dataclass(frozen=True)
class _Ranked:
    """The exact ranking curves of one computation (image, pixel and its number of regions)."""

    image: RankCurve
    pixel: RankCurve | None
    n_regions: int
    update_count: int


class AnomalyMetrics(Metric):
    """Image- and pixel-level anomaly detection metrics of one category.

    Exact mode stores image scores (float64), labels (uint8), anomaly maps (float32) and masks
    (uint8), and sorts all pixels once at compute for all four pixel metrics. Binned mode stores,
    per sample, the pixel counts and 1/region-area sums per bin (memory independent of the
    resolution). Under DDP the states are gathered with torchmetrics' syncing; when
    ``sample_ids`` are given, samples repeated by the distributed sampler's padding are counted
    once (the first occurrence is kept). All maps must share one (H, W).

    Memory cap: in exact mode, an update whose pixels would bring the estimated peak memory
    (:data:`EXACT_BYTES_PER_PIXEL` x the pixels stored so far and in the batch, times the number of
    DDP ranks) above ``max_exact_gb`` switches the pixel metrics to binned mode first: the stored
    maps are turned into per-sample histograms and freed, a one-line :class:`BinnedFallbackWarning`
    is issued (rank 0), and the category goes on binned; ``pixel_mode`` tells which mode is in use.
    The image metrics stay exact. ``reset()`` returns to exact mode for the next category.

    Args:
        mode: ``"exact"`` (matches sklearn and the MVTec AD definition) or ``"binned"``.
        num_thresholds: Number of fixed thresholds over [0, 1] in binned mode.
        fpr_limit: AUPRO integration limit in (0, 1].
        pixel: Whether to compute the pixel-level metrics (maps and masks are ignored if False).
        max_exact_gb: Cap of the exact pixel metrics' estimated memory in GB (1e9 bytes); None: no cap.
        **kwargs: Passed to :class:`torchmetrics.Metric` (e.g. ``compute_on_cpu``).
    """

    is_differentiable = False
    higher_is_better = True
    full_state_update = False

    def __init__(
        self,
        mode: str = "exact",
        num_thresholds: int = 1000,
        fpr_limit: float = 0.3,
        pixel: bool = True,
        max_exact_gb: float | None = DEFAULT_MAX_EXACT_GB,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        check_mode(mode, num_thresholds)
        check_fpr_limit(fpr_limit)
        check_max_exact_gb(max_exact_gb)
        self.mode, self.num_thresholds, self.fpr_limit, self.pixel = mode, num_thresholds, fpr_limit, pixel
        self.max_exact_gb = None if max_exact_gb is None else float(max_exact_gb)
        # Exact pixel metrics under a cap keep both kinds of state and a per-sample flag of which holds it.
        self._capped = pixel and mode == "exact" and self.max_exact_gb is not None
        names = ["image_scores", "labels", "sample_ids"]
        if pixel:
            names += ["maps", "masks"] if mode == "exact" else list(_PIXEL_HISTS)
        if self._capped:
            names += [*_PIXEL_HISTS, "binned_rows"]
        for name in names:
            self.add_state(name, default=[], dist_reduce_fx="cat")
        self._ranked: _Ranked | None = None
        self.pixel_mode = mode
        self._exact_pixels = 0

    def update(
        self,
        image_scores: Tensor,
        labels: Tensor,
        anomaly_maps: Tensor | None = None,
        masks: Tensor | None = None,
        sample_ids: Tensor | None = None,
    ) -> None:
        """Accumulates a batch.

        Args:
            image_scores: Image anomaly scores, shape (B,).
            labels: Image labels in {0, 1}, shape (B,).
            anomaly_maps: Pixel scores, shape (B, H, W); required when ``pixel``.
            masks: Ground-truth masks in {0, 1}, shape (B, H, W); required when ``pixel``.
            sample_ids: Dataset index of each sample, shape (B,); give it for every batch or none.
        """
        self._ranked = None
        check_pair(image_scores, labels, ("image_scores", "labels"), 1)
        batch = len(image_scores)
        if sample_ids is not None and (sample_ids.shape != (batch,) or sample_ids.is_floating_point()):
            raise ValueError(
                f"sample_ids must be an integer tensor of shape ({batch},), "
                f"got {sample_ids.dtype} {tuple(sample_ids.shape)}"
            )
        if self.pixel:
            if anomaly_maps is None or masks is None:
                raise ValueError("anomaly_maps and masks are required when pixel=True")
            check_pair(anomaly_maps, masks, ("anomaly_maps", "masks"), 3)
            if len(anomaly_maps) != batch:
                raise ValueError(f"anomaly_maps has {len(anomaly_maps)} samples but image_scores has {batch}")
        self.image_scores.append(image_scores.detach().to(torch.float64, copy=True))
        self.labels.append(labels.detach().to(torch.uint8, copy=True))
        if sample_ids is not None:
            self.sample_ids.append(sample_ids.detach().to(torch.int64, copy=True))
        if not self.pixel:
            return
        if self._capped:
            self._update_capped(anomaly_maps, masks)
            return
        if self.mode == "exact":
            self.maps.append(anomaly_maps.detach().to(torch.float32, copy=True))
            self.masks.append(masks.detach().to(torch.uint8, copy=True))
            return
        self._append_histograms(anomaly_maps, masks)

    def _append_histograms(self, anomaly_maps: Tensor, masks: Tensor) -> None:
        counts = histograms(anomaly_maps, masks, self.num_thresholds, rows=True, regions=True)
        for name, value in counts.items():
            getattr(self, name).append(value.to(_PIXEL_HISTS[name]))

    def _update_capped(self, anomaly_maps: Tensor, masks: Tensor) -> None:
        """Exact storage until the cap would be passed, then per-sample histograms."""
        if self.pixel_mode == "exact":
            needed = (self._exact_pixels + anomaly_maps.numel()) * _world_size(self) * EXACT_BYTES_PER_PIXEL
            if needed > round(self.max_exact_gb * 1e9):
                self._switch_to_binned(needed)
        flag = torch.full((len(anomaly_maps),), self.pixel_mode == "binned", dtype=torch.uint8)
        self.binned_rows.append(flag.to(anomaly_maps.device))
        if self.pixel_mode == "exact":
            self.maps.append(anomaly_maps.detach().to(torch.float32, copy=True))
            self.masks.append(masks.detach().to(torch.uint8, copy=True))
            self._exact_pixels += anomaly_maps.numel()
        else:
            self._append_histograms(anomaly_maps, masks)
        # Every state holds a tensor of its final shape, so ranks that did not switch (and ranks that
        # did) gather into tensors of one shape under DDP.
        height, width = anomaly_maps.shape[1:]
        placeholders = {
            "maps": (torch.float32, (height, width)),
            "masks": (torch.uint8, (height, width)),
            **{n: (d, () if n == "regions" else (self.num_thresholds,)) for n, d in _PIXEL_HISTS.items()},
        }
        for name, (dtype, tail) in placeholders.items():
            if not getattr(self, name):
                getattr(self, name).append(torch.zeros((0, *tail), dtype=dtype, device=anomaly_maps.device))

    def _switch_to_binned(self, needed: float) -> None:
        """Turn the stored maps into per-sample histograms, free them and continue binned."""
        for counts in list(self._map_histograms()):
            for name, value in counts.items():
                getattr(self, name).append(value)
        self.binned_rows = [torch.ones_like(flags) for flags in self.binned_rows]
        self.maps.clear()
        self.masks.clear()
        self.pixel_mode = "binned"
        world = _world_size(self)
        ranks = f" over {world} ranks" if world > 1 else ""
        rank_zero_warn(
            f"pixel metrics switch to binned mode ({self.num_thresholds} thresholds): exact mode would need "
            f"about {needed / 1e9:.2f} GB ({EXACT_BYTES_PER_PIXEL} B per pixel{ranks}), above "
            f"max_exact_gb={self.max_exact_gb:g}; raise metrics.max_exact_gb or set metrics.mode=binned",
            BinnedFallbackWarning,
        )

    def reset(self) -> None:
        """Clears the states and the kept ranking; a category that switched to binned mode starts the next
        one exact."""
        super().reset()
        self._ranked = None
        self.pixel_mode = self.mode
        self._exact_pixels = 0

    def compute(self) -> dict[str, float]:
        """Returns ``{key: value}`` for the keys of METRIC_KEYS, in that order.

        Without ``pixel`` the pixel keys and ``mad`` (the mean of all seven headline metrics) are left
        out. Values are fractions in [0, 1], NaN (with a warning) where a metric is undefined; ``mad``
        is NaN when one of the seven is.
        """
        return self._values(self._rank(self._samples()))

    def compute_subset(self, sample_ids: Sequence[int]) -> dict[str, float]:
        """:meth:`compute` over the samples whose ``sample_ids`` are listed (e.g. the normal images and one
        defect type); requires ``sample_ids`` in every update. A collective call under DDP, like
        :meth:`compute`; the ranking kept for :meth:`curves` is not replaced.

        Examples:
            >>> m = AnomalyMetrics(pixel=False)
            >>> m.update(torch.tensor([0.1, 0.4, 0.35, 0.8]), torch.tensor([0, 0, 1, 1]), sample_ids=torch.arange(4))
            >>> m.compute_subset([0, 1, 3])["image_auroc"]
            1.0
        """
        with self._synced():
            return self._values(self._rank(self._samples(), _ids(sample_ids)))

    def compute_with_subsets(
        self, groups: Mapping[str, Sequence[int]]
    ) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
        """:meth:`compute` and :meth:`compute_subset` of each group, from one synchronisation of the states.

        Returns ``(compute(), {name: compute_subset(ids)})`` with the same values and warnings as those
        calls one after the other, but the states are gathered across DDP ranks once rather than once per
        call. A collective call under DDP (every rank passes the same groups); the total is cached and its
        ranking kept for :meth:`curves`, as by :meth:`compute`.

        Examples:
            >>> m = AnomalyMetrics(pixel=False)
            >>> m.update(torch.tensor([0.1, 0.4, 0.35, 0.8]), torch.tensor([0, 0, 1, 1]), sample_ids=torch.arange(4))
            >>> total, parts = m.compute_with_subsets({"a": [0, 1, 3]})
            >>> total["image_auroc"], parts["a"]["image_auroc"]
            (0.75, 1.0)
        """
        if not groups:
            return self.compute(), {}
        if not self.update_called:  # the warning of torchmetrics' wrapper around compute()
            rank_zero_warn(
                f"The ``compute`` method of metric {self.__class__.__name__}"
                " was called before the ``update`` method which may lead to errors,"
                " as metric states have not yet been updated.",
                UserWarning,
            )
        with self._synced():
            samples = self._samples()
            total = self._computed
            if total is None:
                total = self._values(self._rank(samples))
                if self.compute_with_cache:
                    self._computed = total
            parts = {name: self._values(self._rank(samples, _ids(ids))) for name, ids in groups.items()}
        return total, parts

    def _synced(self) -> AbstractContextManager[None]:
        """The states gathered across DDP ranks, as inside :meth:`compute` (restored on exit)."""
        return self.sync_context(
            dist_sync_fn=self.dist_sync_fn,
            should_sync=getattr(self, "_to_sync", True),
            should_unsync=getattr(self, "_should_unsync", True),
        )

    def _values(self, ranked: _Ranked) -> dict[str, float]:
        image = ranked.image
        out = {
            "image_auroc": auroc(image),
            "image_ap": average_precision(image),
            "image_f1max": f1_max(image),
        }
        if ranked.pixel is not None:
            curve, n_regions = ranked.pixel, ranked.n_regions
            out["pixel_auroc"] = auroc(curve)
            out["pixel_ap"] = average_precision(curve)
            out["pixel_f1max"] = f1_max(curve)
            out["pixel_aupro"] = aupro(curve, n_regions, self.fpr_limit)
        out.update(operating_points(image))
        if ranked.pixel is not None:
            out[MAD_KEY] = mad(out)
        return out

    def curves(self, max_points: int | None = 1000) -> dict[str, Curve]:
        """The curves behind :meth:`compute`'s values, keyed like ``CURVE_KEYS``.

        ``image_roc``, ``image_pr`` and, with ``pixel``, ``pixel_roc``, ``pixel_pr`` and
        ``pixel_pro`` (FPR up to ``fpr_limit``). Each ``Curve.area`` is the value ``compute()``
        reports for ``Curve.metric``; curves whose metric is undefined (NaN) are left out. Each
        curve keeps at most ``max_points`` vertices (``None``: all; see ``Curve.downsample``).

        Under DDP the states are gathered as in ``compute()``. The ranking of the last
        ``compute()`` is reused until the next ``update()``/``reset()``: call ``compute()`` on
        every rank first, then ``curves()`` needs no communication and may run on rank 0 only.
        Without a preceding ``compute()`` it is a collective call, like ``compute()``.

        Examples:
            >>> m = AnomalyMetrics(pixel=False)
            >>> m.update(torch.tensor([0.1, 0.4, 0.35, 0.8]), torch.tensor([0, 0, 1, 1]))
            >>> roc = m.curves()["image_roc"]
            >>> roc.x.tolist(), roc.y.tolist(), roc.area
            ([0.0, 0.0, 0.5, 0.5, 1.0], [0.0, 0.5, 0.5, 1.0, 1.0], 0.75)
        """
        ranked = self._ranked
        if ranked is None or ranked.update_count != self._update_count:
            with self._synced():
                ranked = self._rank(self._samples())
        return all_curves(ranked.image, ranked.pixel, ranked.n_regions, self.fpr_limit, max_points)

    def _samples(self) -> _Samples:
        """The (synchronised) image states, their sample ids and the first occurrence of each id."""
        scores, labels = _cat(self.image_scores, torch.float64), _cat(self.labels, torch.uint8)
        ids = _cat(self.sample_ids, torch.int64).cpu().numpy()
        return _Samples(scores, labels, ids, _first_occurrences(ids, len(scores)))

    def _rank(self, samples: _Samples, subset: np.ndarray | None = None) -> _Ranked:
        """Ranks the samples (de-duplicated by id), or only those whose ids are in ``subset``; the ranking
        of all samples is kept for :meth:`curves`."""
        scores, labels, keep = samples.scores, samples.labels, samples.keep
        if subset is not None:
            if len(samples.ids) != len(scores):
                raise ValueError("compute_subset needs sample_ids in every update")
            chosen = np.isin(samples.ids, subset)
            keep = chosen if keep is None else keep & chosen
        if keep is not None:
            rows = torch.from_numpy(keep).to(scores.device)
            scores, labels = scores[rows], labels[rows]
        if self.mode == "exact":
            image = split_by_class(scores, labels).curve()
        else:
            image = self._binned(scores, labels)
        pixel, n_regions = self._pixel_curve(keep) if self.pixel else (None, 0)
        ranked = _Ranked(image, pixel, n_regions, self._update_count)
        if subset is None:
            self._ranked = ranked
        return ranked

    def _binned(self, scores: Tensor, labels: Tensor) -> RankCurve:
        counts = histograms(scores, labels, self.num_thresholds)
        return curve_from_histograms(counts["neg_hist"].cpu().numpy(), counts["pos_hist"].cpu().numpy())

    def _pixel_curve(self, keep: np.ndarray | None) -> tuple[RankCurve, int]:
        binned_rows = _cat(self.binned_rows, torch.uint8).bool().cpu() if self._capped else None
        if self.mode == "exact" and (binned_rows is None or not binned_rows.any()):
            split = split_by_class(self.maps, self.masks, keep, regions=True)
            return split.curve(), split.n_regions
        self.pixel_mode = "binned"  # under DDP: when any rank switched, all samples are counted binned
        totals = {}
        for name, rows in self._histogram_rows(binned_rows).items():
            totals[name] = (rows if keep is None else rows[keep]).sum(axis=0)
        curve = curve_from_histograms(totals["neg_hist"], totals["pos_hist"], totals["weight_hist"])
        return curve, int(totals["regions"])

    def _histogram_rows(self, binned_rows: Tensor | None) -> dict[str, np.ndarray]:
        """Per-sample histogram rows in sample order; samples still stored as maps are binned here."""
        rows = {}
        for name, dtype in _PIXEL_HISTS.items():
            tail = () if name == "regions" else (self.num_thresholds,)
            rows[name] = _cat(getattr(self, name), dtype, tail).cpu().numpy()
        if binned_rows is None or bool(binned_rows.all()):
            return rows
        parts: dict[str, list[np.ndarray]] = {name: [] for name in _PIXEL_HISTS}
        for counts in self._map_histograms():
            for name, value in counts.items():
                parts[name].append(value.cpu().numpy())
        flags = binned_rows.numpy()
        merged = {}
        for name, binned in rows.items():
            out = np.zeros((len(flags), *binned.shape[1:]), dtype=binned.dtype)
            out[flags] = binned
            out[~flags] = np.concatenate(parts[name]) if parts[name] else binned[:0]
            merged[name] = out
        return merged

    def _map_histograms(self) -> Iterator[dict[str, Tensor]]:
        """Per-sample histogram rows of the stored maps, in order, ~4 M pixels at a time."""
        maps = self.maps if isinstance(self.maps, list) else [self.maps]
        masks = self.masks if isinstance(self.masks, list) else [self.masks]
        for m, y in zip(maps, masks, strict=True):
            if m.ndim != 3 or not len(m):  # empty placeholders (also as gathered by torchmetrics)
                continue
            step = max(1, _CHUNK_PIXELS // m[0].numel())
            for i in range(0, len(m), step):
                counts = histograms(
                    m[i : i + step], y[i : i + step], self.num_thresholds, rows=True, regions=True
                )
                yield {name: value.to(_PIXEL_HISTS[name]) for name, value in counts.items()}


def mad(values: dict[str, float]) -> float:
    """ADer's mAD: the plain mean of the seven :data:`HEADLINE_KEYS` (NaN when one of them is NaN)."""
    return float(sum(values[key] for key in HEADLINE_KEYS) / len(HEADLINE_KEYS))


def _world_size(metric: Metric) -> int:
    """Number of processes whose states ``compute()`` gathers (1 outside torch.distributed)."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_world_size(metric.process_group)
    return 1


def _first_occurrences(ids: np.ndarray, n: int) -> np.ndarray | None:
    """Mask of the first occurrence of each sample id among ``n`` samples; None: keep all (no ids, or none
    repeated)."""
    if len(ids) == 0:
        return None
    if len(ids) != n:
        raise ValueError(f"sample_ids given for {len(ids)} of {n} samples; give them for all or none")
    first = np.unique(ids, return_index=True)[1]
    if len(first) == n:
        return None
    keep = np.zeros(n, dtype=bool)
    keep[first] = True
    return keep


def _ids(sample_ids: Sequence[int]) -> np.ndarray:
    return np.asarray(sample_ids, dtype=np.int64)


def _cat(state: Tensor | list[Tensor], dtype: torch.dtype, tail: tuple[int, ...] = ()) -> Tensor:
    if isinstance(state, Tensor):
        return state
    return torch.cat(state) if state else torch.zeros((0, *tail), dtype=dtype)


def make_metric_collections(
    mode: str = "exact", num_thresholds: int = 1000, fpr_limit: float = 0.3
) -> tuple[MetricCollection, MetricCollection]:
    """Builds the standard raw torchmetrics collections.

    The image collection is updated with ``(image_scores (B,), labels (B,))`` and the pixel one
    with ``(anomaly_maps (B, H, W), masks (B, H, W))``. In exact mode the pixel metrics form one
    compute group, so the maps are stored once. Unlike :class:`AnomalyMetrics`, no de-duplication
    of padded DDP samples happens here.

    Args:
        mode: ``"exact"`` or ``"binned"``.
        num_thresholds: Number of thresholds in binned mode.
        fpr_limit: AUPRO integration limit.

    Returns:
        The image-level and the pixel-level collections, keyed like METRIC_KEYS (all but ``mad``).
    """
    image_kwargs = {"mode": mode, "num_thresholds": num_thresholds, "score_dtype": torch.float64}
    pixel_kwargs = {"mode": mode, "num_thresholds": num_thresholds}
    operators = {"tpr": TPRAtFPR, "tnr": TNRAtFNR}
    image = MetricCollection(
        {
            "image_auroc": AUROC(**image_kwargs),
            "image_ap": AveragePrecision(**image_kwargs),
            "image_f1max": F1Max(**image_kwargs),
            **{
                key: operators[kind](limit, **image_kwargs) for key, (kind, limit) in OPERATING_POINTS.items()
            },
        }
    )
    pixel = MetricCollection(
        {
            "pixel_auroc": AUROC(**pixel_kwargs),
            "pixel_ap": AveragePrecision(**pixel_kwargs),
            "pixel_f1max": F1Max(**pixel_kwargs),
            "pixel_aupro": AUPRO(fpr_limit=fpr_limit, **pixel_kwargs),
        }
    )
    return image, pixel
