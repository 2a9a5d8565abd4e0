"""Builds the run's objects from the composed config: model, datamodule, metrics, cache, loggers, trainer."""

from __future__ import annotations

import functools
import logging
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from omegaconf import DictConfig, OmegaConf

from winclip_lit.config.errors import ConfigError
from winclip_lit.config.validate import check_options
from winclip_lit.engine.devices import loader_workers, pin_memory

if TYPE_CHECKING:
    import lightning as L

    from winclip_lit.cache import FeatureCache
    from winclip_lit.data import AnomalyDataModule
    from winclip_lit.metrics import AnomalyMetrics
    from winclip_lit.model import WinCLIP
    from winclip_lit.model.backbones import Backbone

RUN_DATASET_KEYS = ("_target_", "name", "download", "class_name_map")
"""Keys of the `dataset` group that the run reads itself; the rest are datamodule arguments."""


@functools.lru_cache(maxsize=1)
def _load_backbone(
    model_name: str, pretrained: str | None, cache_dir: str | None, torch_seed: int
) -> tuple[Backbone, dict]:
    """The backbone of the latest job and its text-embedding cache, kept for the next job: a sweep in
    one process loads CLIP once and encodes each prompt set once."""
    import torch

    from winclip_lit.model.backbones import load_backbone
    from winclip_lit.model.errors import WeightsUnavailableError

    torch.manual_seed(torch_seed)
    try:
        return load_backbone(model_name, pretrained, cache_dir=cache_dir, device="cpu"), {}
    except WeightsUnavailableError as error:
        raise WeightsUnavailableError(
            f"{error.reason} -- pass backbone.pretrained=/path/to/open_clip_weights.bin (an open_clip weights "
            "file), or backbone=tiny_random for an offline smoke run",
            error.reason,
        ) from error


def build_model(cfg: DictConfig) -> WinCLIP:
    """A ``WinCLIP`` model on the CPU (Lightning moves it) with the config's options.

    Torch is seeded with ``torch_seed`` first, so random-init backbones are the same in every process.
    Jobs of a sweep that run in one process share the loaded backbone; the model around it is new.
    """
    from winclip_lit.model import WinCLIP

    options = check_options(cfg)
    backbone, text_cache = _load_backbone(
        cfg.backbone.model_name, cfg.backbone.pretrained, cfg.backbone.cache_dir, int(cfg.torch_seed)
    )
    model = WinCLIP(
        backbone.model,
        backbone.tokenizer,
        model_name=backbone.name,
        pretrained=backbone.pretrained,
        mean=backbone.mean,
        std=backbone.std,
        text_cache=text_cache,
        **options.values(),
    )
    return model.to("cpu")


def build_datamodule(cfg: DictConfig, model: WinCLIP, k_shot: int | None = None) -> AnomalyDataModule:
    """The configured datamodule for ``model``'s transform; ``k_shot`` overrides ``shot.k``.

    Call :func:`winclip_lit.engine.data.prepare_dataset` first for CLI-friendly errors and downloads.
    """
    from hydra.utils import get_class

    spec = OmegaConf.to_container(cfg.dataset, resolve=True)
    if "_target_" not in spec:
        raise ConfigError(
            "the dataset config has no _target_; choose one with dataset=<mvtec|visa|folder|...>"
        )
    kwargs = {key: value for key, value in spec.items() if key not in RUN_DATASET_KEYS}
    return get_class(spec["_target_"])(
        **kwargs,
        transform=model.transform,
        image_size=model.image_size,
        k_shot=int(cfg.shot.k if k_shot is None else k_shot),
        seed=int(cfg.seed),
        batch_size=int(cfg.loader.batch_size),
        num_workers=loader_workers(cfg.loader, cfg.trainer),
        pin_memory=pin_memory(cfg.loader, cfg.trainer),
    )


def build_metrics(metrics: DictConfig, pixel: bool) -> AnomalyMetrics:
    """Image (and, with masks, pixel) metrics as the ``metrics`` node says."""
    from winclip_lit.metrics import AnomalyMetrics

    return AnomalyMetrics(
        mode=metrics.mode,
        num_thresholds=int(metrics.num_thresholds),
        fpr_limit=float(metrics.fpr_limit),
        pixel=pixel,
        max_exact_gb=metrics.max_exact_gb,
    )


def build_cache(cache: DictConfig, model: WinCLIP) -> FeatureCache | None:
    """The on-disk feature cache when ``cache.enabled``, else None."""
    if not cache.enabled:
        return None
    from winclip_lit.cache import FeatureCache

    return FeatureCache(Path(cache.dir).expanduser(), model.feature_fingerprint())


def quiet_lightning() -> None:
    """Keep Lightning's start-up chatter and known-harmless warnings off the console."""
    for name in ("lightning.pytorch", "lightning.fabric", "lightning"):
        logging.getLogger(name).setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message=r".*does not have many workers.*")
    # Lightning 2.6 calls a torch pytree API that torch 2.14 deprecates (nothing for users to do).
    warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\).*")
    # Padding duplicates of the DistributedSampler are removed by sample index in the metrics.
    warnings.filterwarnings("ignore", message=r".*Using `DistributedSampler` with the dataloaders.*")
    # Category metrics are synchronised by the metrics themselves before self.log (rank 0 logs them).
    warnings.filterwarnings("ignore", message=r".*when logging on epoch level in distributed setting.*")
    # train's predict loop keeps each category's state in the module and returns nothing on purpose.
    warnings.filterwarnings("ignore", message=r".*predict returned None.*")
    # Each category is one test epoch at step 0: loggers see one row per category, which is intended.
    warnings.filterwarnings("ignore", message=r".*The number of training batches.*")


def build_trainer(
    trainer: DictConfig, devices: Any = None, loggers: list | None = None, callbacks: list | None = None
) -> L.Trainer:
    """A Lightning Trainer for test/predict loops (no checkpoints or model summary; Rich progress bars).

    Args:
        trainer: The ``trainer`` node (the Trainer's arguments).
        devices: Replaces ``trainer.devices`` (a parallel sweep's GPU slot).
        loggers: Lightning loggers that receive the module's ``self.log`` values.
        callbacks: Further callbacks (the dashboard's panels, the prediction writer).
    """
    import lightning as L
    from lightning.pytorch.callbacks import RichProgressBar

    quiet_lightning()
    spec = OmegaConf.to_container(trainer, resolve=True)
    if "spawn" in str(spec.get("strategy")) or "fork" in str(spec.get("strategy")):
        raise ConfigError(
            f"trainer.strategy={spec['strategy']} is not supported; use trainer=ddp (strategy ddp), "
            "which starts one process per device"
        )
    progress = bool(spec.pop("enable_progress_bar", True))
    if devices is not None:
        spec["devices"] = devices
    return L.Trainer(
        **spec,
        logger=loggers or False,
        enable_checkpointing=False,
        enable_model_summary=False,
        enable_progress_bar=progress,
        callbacks=[*([RichProgressBar(leave=False)] if progress else []), *(callbacks or [])],
    )
