"""The ``threshold`` group at run time: per category, score the calibration (or validation) images and
compute the decision thresholds that train stores, evaluate reports and predict applies (docs/thresholds.md).

A category's thresholds are a plain dict (what the checkpoint and the export sidecar store)::

    {"method": "conformal", "image": 0.6123, "pixel": 0.7311, "alpha": 0.01, "num_calibration": 100}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F
from omegaconf import DictConfig, OmegaConf
from torch.utils.data import DataLoader

from winclip_lit.engine.devices import wants_gpu
from winclip_lit.metrics.thresholds import conformal_threshold, f1_threshold

if TYPE_CHECKING:
    from winclip_lit.data import AnomalyDataModule
    from winclip_lit.engine.checkpoint import Checkpoint
    from winclip_lit.lit_module import CategoryInputs, WinCLIPModule


@dataclass
class ScoredImages:
    """Scores of a set of images: image scores, labels, map maxima and (when kept) maps and masks."""

    scores: torch.Tensor
    labels: torch.Tensor
    maxima: torch.Tensor
    maps: torch.Tensor | None = None
    masks: torch.Tensor | None = None


def score_images(
    module: WinCLIPModule, dataset: Any, batch_size: int, keep_maps: bool = False
) -> ScoredImages:
    """Score every item of an ``AnomalyTestDataset`` with the module's prepared category (no metrics).

    Maps are brought to the mask size, as in the test loop, before their maxima are taken.
    """
    scores, labels, maxima, maps, masks = [], [], [], [], []
    for batch in DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=0):
        out = module(batch["image"].to(module.device), list(batch["image_path"]))
        batch_maps = out.anomaly_maps.float()
        if batch_maps.shape[-2:] != batch["mask"].shape[-2:]:
            size = batch["mask"].shape[-2:]
            batch_maps = F.interpolate(batch_maps[:, None], size=size, mode="bilinear", align_corners=False)[
                :, 0
            ]
        scores.append(out.image_scores.float().cpu())
        labels.append(torch.as_tensor(batch["label"]))
        maxima.append(batch_maps.flatten(1).amax(1).cpu())
        if keep_maps:
            maps.append(batch_maps.cpu())
            masks.append(batch["mask"])
    return ScoredImages(
        torch.cat(scores),
        torch.cat(labels),
        torch.cat(maxima),
        torch.cat(maps) if keep_maps else None,
        torch.cat(masks) if keep_maps else None,
    )


def _calibration_device(cfg: DictConfig) -> torch.device:
    return (
        torch.device("cuda") if wants_gpu(cfg.trainer) and torch.cuda.is_available() else torch.device("cpu")
    )


def category_thresholds(
    cfg: DictConfig, module: WinCLIPModule, datamodule: AnomalyDataModule | None, inputs: CategoryInputs
) -> dict[str, Any] | None:
    """The thresholds of one category as ``cfg.threshold`` asks (None for ``threshold=none``).

    ``conformal`` scores ``threshold.num_calibration`` seeded normal images of the reference pool (never
    one of the ``shot.k`` references); ``f1`` scores the category's validation part (see
    ``AnomalyDataModule.hold_out_validation``); ``fixed`` scores nothing.

    Args:
        cfg: The run config.
        module: The module whose model scores the images (moved to the run's device and back).
        datamodule: The dataset of the category (not needed for ``none`` and ``fixed``).
        inputs: The category's inputs (prompts and references, or a checkpoint's state).
    """
    spec = cfg.get("threshold") or {}
    method = str(spec.get("method", "none"))
    if method == "none":
        return None
    if method == "fixed":
        value = float(spec.value)
        return {"method": "fixed", "image": value, "pixel": value, "value": value}
    if method == "conformal":
        dataset = datamodule.calibration_dataset(inputs.name, int(spec.num_calibration), int(cfg.shot.k))
    else:
        dataset = datamodule.validation_dataset(inputs.name)
    device = module.device
    module.to(_calibration_device(cfg))
    try:
        module.set_category(inputs)
        module.apply_category()
        scored = score_images(module, dataset, int(cfg.loader.batch_size), keep_maps=method == "f1")
    finally:
        module.to(device)
    if method == "conformal":
        alpha = float(spec.alpha)
        return {
            "method": "conformal",
            "image": conformal_threshold(scored.scores, alpha),
            "pixel": conformal_threshold(scored.maxima, alpha),
            "alpha": alpha,
            "num_calibration": len(scored.scores),
        }
    pixel = None
    if datamodule.has_masks(inputs.name) and scored.masks is not None and bool(scored.masks.any()):
        pixel = f1_threshold(scored.maps, scored.masks)
    return {
        "method": "f1",
        "image": f1_threshold(scored.scores, scored.labels),
        "pixel": pixel,
        "validation_split": float(spec.validation_split),
        "num_validation": len(scored.scores),
    }


def checkpoint_thresholds(
    cfg: DictConfig, checkpoint: Checkpoint | None, category: str
) -> dict[str, Any] | None:
    """The thresholds ``checkpoint`` stores for ``category`` when the run's ``threshold`` node is the one they
    were computed with (a checkpoint's is adopted unless given: ``Checkpoint.configure``), else None.

    Evaluate then reports the rates at the thresholds that predict applies, without recalibrating.
    """
    if checkpoint is None or category not in checkpoint.thresholds:
        return None
    current = cfg.get("threshold")
    current = OmegaConf.to_container(current, resolve=True) if current is not None else None
    return dict(checkpoint.thresholds[category]) if current == checkpoint.config.get("threshold") else None


def hold_out_validation(cfg: DictConfig, datamodule: AnomalyDataModule) -> None:
    """Under ``threshold=f1``, move the seeded validation part out of every category's test set."""
    spec = cfg.get("threshold") or {}
    if spec.get("method") == "f1":
        datamodule.hold_out_validation(float(spec.validation_split))


def describe(category: str, thresholds: dict[str, Any]) -> str:
    """``bottle: conformal thresholds image 0.6123, pixel 0.7311``: one line for the console."""
    pixel = thresholds.get("pixel")
    return (
        f"{category}: {thresholds['method']} thresholds image {thresholds['image']:.6g}, "
        f"pixel {'-' if pixel is None else f'{pixel:.6g}'}"
    )


def train_thresholds(
    cfg: DictConfig, module: WinCLIPModule, datamodule: AnomalyDataModule, states: dict[str, dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """The thresholds of every category of a train run, built from its saved states (empty for ``none``)."""
    from winclip_lit.engine.context import console
    from winclip_lit.lit_module import CategoryInputs

    if str((cfg.get("threshold") or {}).get("method", "none")) == "none":
        return {}
    hold_out_validation(cfg, datamodule)
    found = {}
    for category in datamodule.categories:
        thresholds = category_thresholds(
            cfg, module, datamodule, CategoryInputs(category, state=states[category])
        )
        if thresholds is not None:
            found[category] = thresholds
            console.print(describe(category, thresholds))
    return found
