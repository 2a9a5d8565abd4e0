"""LightningModule around the pure-torch WinCLIP model (arXiv 2303.14814): per-category inputs, test and
predict steps, metric updates and logging through Lightning's loggers."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import lightning as L
import torch
import torch.nn.functional as F

from winclip_lit import WinCLIP, WinCLIPOutput
from winclip_lit.gather import gather_from_ranks
from winclip_lit.metrics import AnomalyMetrics
from winclip_lit.metrics.thresholds import decision_metrics, pixel_counts
from winclip_lit.samples import ImageResult


@dataclass
class CategoryInputs:
    """What the model needs for one category, applied on the module's device before testing.

    Attributes:
        name: Category name (selects the prompt class name).
        references: (k,3,S,S) normalised reference images, or None (zero-shot or restored state).
        reference_paths: Files of ``references`` (keys of the feature cache).
        state: A ``model.category_state.state_dict()`` (from a checkpoint) used instead of prompts/references.
    """

    name: str
    references: torch.Tensor | None = None
    reference_paths: list[str] = field(default_factory=list)
    state: dict[str, Any] | None = None


@dataclass
class Sample:
    """One test image kept for visualisation."""

    image_path: str
    anomaly_map: torch.Tensor
    mask: torch.Tensor
    label: int
    score: float


@dataclass
class PixelCounts:
    """One test image's pixel counts at the pixel threshold (``metrics.thresholds.pixel_counts``)."""

    file: str
    counts: torch.Tensor


class WinCLIPModule(L.LightningModule):
    """Evaluates a WinCLIP model one category at a time; holds no algorithm of its own.

    Precision is the model's (``precision`` option: autocast of the image tower); scores and maps are
    cast to fp32 before the metrics.

    Call ``prepare(CategoryInputs(...))`` then ``trainer.test(module, datamodule)`` per category; the
    category's metrics are in ``results`` afterwards, its test-loop time in ``seconds``.

    Args:
        model: The pure-torch WinCLIP model (loaded once per process).
        metrics: The metric collection; updated in ``test_step``, computed (synchronised across ranks)
            at the end of each category's test epoch. None for inference only (train, predict).
        cache: Optional ``FeatureCache`` for per-image features, reused across runs.
        num_samples: Test images per category kept in ``samples`` for visualisation (those whose dataset
            index is in ``sample_indices``, or the first ones when it is empty).

    After each category's test epoch the metrics are logged as ``<category>/<metric>`` (fractions) through
    ``self.log``, so ``trainer.test`` returns them and every attached Lightning logger receives them.
    """

    def __init__(
        self,
        model: WinCLIP,
        metrics: AnomalyMetrics | None = None,
        cache: Any | None = None,
        num_samples: int = 0,
    ) -> None:
        super().__init__()
        self.model = model
        self.metrics = metrics
        self.cache = cache
        self.num_samples = int(num_samples)
        self.category_inputs: CategoryInputs | None = None
        self.results: dict[str, float] = {}
        self.samples: list[Sample] = []
        self.sample_indices: set[int] = set()
        self.images: list[ImageResult] = []
        # Decision thresholds of the category (engine.calibration); set before trainer.test, None: none.
        self.thresholds: dict[str, Any] | None = None
        self.pixel_counts: list[PixelCounts] = []
        # Anomaly types reported beside the total: {type: sample ids}, and their metrics after a category.
        self.defect_groups: dict[str, list[int]] = {}
        self.results_by_type: dict[str, dict[str, float]] = {}
        self.seconds = 0.0
        self._started = 0.0

    def set_category(self, inputs: CategoryInputs) -> None:
        """Choose the category (and its references or restored state) that the next test run uses."""
        self.category_inputs = inputs

    def apply_category(self) -> None:
        """Build the prepared category's text embeddings and reference memory on the module's device."""
        inputs = self.category_inputs
        if inputs is None:
            raise RuntimeError("call set_category(CategoryInputs(...)) before trainer.test")
        with torch.no_grad():
            if inputs.state is not None:
                self.model.category_state.load_state_dict(inputs.state)
                return
            self.model.set_class_name(inputs.name)
            if inputs.references is None:
                self.model.set_reference_images(None)
            elif self.cache is not None:
                self.model.set_reference_features(
                    self.cache.encode(self.model, inputs.references.to(self.device), inputs.reference_paths)
                )
            else:
                self.model.set_reference_images(inputs.references.to(self.device))

    def on_test_start(self) -> None:
        """Set prompts and references on this rank's device (identical on every rank)."""
        self.apply_category()
        self.metrics.reset()
        self.samples = []
        self.images = []
        self.pixel_counts = []

    def on_predict_start(self) -> None:
        """Set prompts and references on this rank's device before the predict loop."""
        self.apply_category()

    def predict_step(self, batch: dict[str, Any], batch_idx: int) -> dict[str, Any]:
        """Scores and maps (on the CPU) of one batch; items with ``ok`` false (unreadable files) are passed on
        unscored for the writer to report."""
        ok = torch.as_tensor(batch["ok"], dtype=torch.bool)
        scores = torch.full((len(ok),), float("nan"))
        maps = torch.zeros(len(ok), *batch["image"].shape[-2:])
        if ok.any():
            paths = [p for p, good in zip(batch["image_path"], ok.tolist(), strict=True) if good]
            out = self(batch["image"][ok.to(batch["image"].device)], paths)
            scores[ok] = out.image_scores.float().cpu()
            maps[ok] = out.anomaly_maps.float().cpu()
        return {
            "index": [int(i) for i in batch["index"]],
            "ok": ok.tolist(),
            "reason": list(batch["reason"]),
            "scores": scores,
            "maps": maps,
        }

    def on_test_epoch_start(self) -> None:
        """Start the clock of the test loop."""
        self._started = time.perf_counter()

    def forward(self, images: torch.Tensor, image_paths: list[str] | None = None) -> WinCLIPOutput:
        """Scores and maps for normalised images (B,3,S,S), through the feature cache when enabled."""
        with torch.no_grad():
            if self.cache is not None and image_paths is not None:
                return self.model.score(self.cache.encode(self.model, images, image_paths))
            return self.model(images)

    def test_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        """Score one batch, bring maps to the mask size, update the metrics."""
        out = self(batch["image"], list(batch["image_path"]))
        scores = out.image_scores.float()
        maps = out.anomaly_maps.float()
        masks = batch["mask"]
        if maps.shape[-2:] != masks.shape[-2:]:
            maps = F.interpolate(maps[:, None], size=masks.shape[-2:], mode="bilinear", align_corners=False)[
                :, 0
            ]
        self.metrics.update(scores, batch["label"], maps, masks, sample_ids=batch["index"])
        self._keep_samples(batch, scores, maps)
        self._count_pixels(batch, maps, masks)

    def _keep_samples(self, batch: dict[str, Any], scores: torch.Tensor, maps: torch.Tensor) -> None:
        maxima = maps.flatten(1).amax(dim=1)
        for i in range(scores.shape[0]):
            index = int(batch["index"][i])
            self.images.append(
                ImageResult(
                    file=str(batch["image_path"][i]),
                    defect=str(batch.get("defect_type", ["unknown"] * len(scores))[i]),
                    label=int(batch["label"][i]),
                    score=float(scores[i]),
                    map_max=float(maxima[i]),
                )
            )
            wanted = (
                index in self.sample_indices if self.sample_indices else len(self.samples) < self.num_samples
            )
            if self.num_samples and wanted:
                self.samples.append(
                    Sample(
                        image_path=str(batch["image_path"][i]),
                        anomaly_map=maps[i].detach().cpu(),
                        mask=batch["mask"][i].detach().cpu(),
                        label=int(batch["label"][i]),
                        score=float(scores[i]),
                    )
                )

    def _gather(self, items: list) -> list:
        """Every rank's items (rank order), de-duplicated by image path (DDP padding repeats images)."""
        if self.trainer is None or self.trainer.world_size == 1:
            return items
        gathered = gather_from_ranks(items, self.trainer.world_size)
        seen, out = set(), []
        for item in (x for part in gathered for x in part):
            key = getattr(item, "file", None) or item.image_path
            if key not in seen:
                seen.add(key)
                out.append(item)
        return sorted(out, key=lambda x: getattr(x, "file", None) or x.image_path)

    def on_test_epoch_end(self) -> None:
        """Compute the category's metrics (a collective call under DDP), log them, stop the clock."""
        total, self.results_by_type = self.metrics.compute_with_subsets(self.defect_groups)  # one sync
        self.results = {name: float(value) for name, value in total.items()}
        self.seconds = time.perf_counter() - self._started
        self.images = self._gather(self.images)
        self.samples = self._gather(self.samples)
        self.results.update(self._decision_results())
        name = self.category_inputs.name if self.category_inputs else "test"
        self.log_dict({f"{name}/{key}": value for key, value in self.results.items()}, rank_zero_only=True)

    def _count_pixels(self, batch: dict[str, Any], maps: torch.Tensor, masks: torch.Tensor) -> None:
        """Per image, the pixel counts at the category's pixel threshold (for the pixel rates)."""
        threshold = (self.thresholds or {}).get("pixel")
        if threshold is None or not self.metrics.pixel:
            return
        for path, counts in zip(batch["image_path"], pixel_counts(maps, masks, threshold).cpu(), strict=True):
            self.pixel_counts.append(PixelCounts(str(path), counts))

    def _decision_results(self) -> dict[str, float]:
        """The thresholds and the rates they realise on the category's test images (empty without)."""
        if not self.thresholds or self.thresholds.get("image") is None:
            return {}
        self.pixel_counts = self._gather(self.pixel_counts)
        scores = torch.tensor([r.score for r in self.images], dtype=torch.float64)
        labels = torch.tensor([r.label for r in self.images], dtype=torch.uint8)
        counts = torch.stack([c.counts for c in self.pixel_counts]) if self.pixel_counts else None
        return decision_metrics(
            scores, labels, self.thresholds["image"], self.thresholds.get("pixel"), counts
        )


class WinCLIPTrainModule(WinCLIPModule):
    """The "fit" of a training-free method through Lightning's predict loop: one item per category.

    Each item is a category's :class:`CategoryInputs` (its reference images); ``predict_step`` builds the
    text embeddings and reference memory on the module's device and keeps ``model.category_state.state_dict()``.
    Under DDP the categories are spread over the ranks and gathered at the end into ``states``.
    """

    def __init__(self, model: WinCLIP, cache: Any | None = None) -> None:
        super().__init__(model, cache=cache)
        self.states: dict[str, dict[str, Any]] = {}

    def on_predict_start(self) -> None:
        """Nothing to set up before the loop: every item brings its category."""
        self.states = {}

    def predict_step(self, batch: CategoryInputs, batch_idx: int) -> None:
        """Text embeddings and reference memory of one category (kept on the CPU in ``states``)."""
        self.set_category(batch)
        self.apply_category()
        self.states[batch.name] = {
            key: value.cpu() if isinstance(value, torch.Tensor) else value
            for key, value in self.model.category_state.state_dict().items()
        }

    def on_predict_epoch_end(self) -> None:
        """Gather every rank's categories."""
        if self.trainer is not None and self.trainer.world_size > 1:
            gathered = gather_from_ranks(self.states, self.trainer.world_size)
            self.states = {name: state for part in gathered for name, state in part.items()}
