"""Builds the run's objects from the composed config: model, datamodule, metrics, cache, trainer."""

from __future__ import annotations

import functools
import logging
import warnings
from pathlib import Path
from typing import Any

import torch
from hydra.utils import get_class
from omegaconf import DictConfig, OmegaConf

from winclip_lit.lit_module import CategorySetup
from winclip_lit.run.checkpoint import Checkpoint
from winclip_lit.run.errors import ConfigError

# Keys of the `dataset` group that the run reads itself; the rest are datamodule arguments.
RUN_DATASET_KEYS = ("_target_", "name", "download", "class_name_map")


def model_options(cfg: DictConfig) -> dict[str, Any]:
    """Keyword options of ``WinCLIP.from_pretrained`` from the window, prompt, model and dataset groups."""
    options: dict[str, Any] = {
        "scales": tuple(int(s) for s in cfg.window.scales),
        "stride": int(cfg.window.stride),
        "temperature": float(cfg.model.temperature),
        "templates": list(cfg.prompt.templates),
        "normal_states": list(cfg.prompt.normal_states),
        "anomalous_states": list(cfg.prompt.anomalous_states),
        "text_average": str(cfg.prompt.text_average),
        "fixed_class_name": cfg.prompt.fixed_class_name,
        "project_patches": bool(cfg.model.project_patches),
        "few_shot_weight": float(cfg.model.few_shot_weight),
        "smoothing_sigma": float(cfg.model.smoothing_sigma),
        "precision": str(cfg.model.precision),
        "compile": bool(cfg.model.compile),
    }
    if cfg.dataset.get("class_name_map") is not None:
        options["class_name_map"] = dict(cfg.dataset.class_name_map)
    if cfg.model.get("max_tokens") is not None:
        options["max_tokens"] = int(cfg.model.max_tokens)
    return options


@functools.lru_cache(maxsize=1)
def _load_backbone(
    model_name: str, pretrained: str | None, cache_dir: str | None, torch_seed: int
) -> tuple[Any, dict]:
    """The backbone of the latest job and its text-embedding cache, kept for the next job: a sweep in
    one process loads CLIP once and encodes each prompt set once."""
    from winclip_lit.model import load_backbone

    torch.manual_seed(torch_seed)
    return load_backbone(model_name, pretrained, cache_dir=cache_dir, device="cpu"), {}


def build_model(cfg: DictConfig) -> Any:
    """Wrap the backbone in a ``WinCLIP`` model (on the CPU; Lightning moves it).

    Torch is seeded with ``torch_seed`` first, so random-init backbones are the same in every process.
    Jobs of a sweep that run in one process (Hydra's basic launcher) share the loaded backbone; the
    model around it is new for every job.
    """
    from winclip_lit import WinCLIP

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
        **model_options(cfg),
    )
    return model.to("cpu")


def prepare_dataset(cfg: DictConfig) -> None:
    """Before any model is loaded: fail with a CLI hint when the dataset root is missing, or fetch it
    when ``dataset.download`` asks to."""
    missing = sorted(OmegaConf.missing_keys(cfg.dataset))
    if missing:
        key = missing[0] if missing[0].startswith("dataset.") else f"dataset.{missing[0]}"
        raise ConfigError(f"{key} is required for dataset={cfg.dataset.name}; pass {key}=...")
    name, root = cfg.dataset.name, cfg.dataset.get("root")
    download = bool(cfg.dataset.get("download", False))
    if root is None or Path(root).expanduser().is_dir():
        return
    if not download:
        fetch = " or dataset.download=true to fetch it" if name in ("mvtec", "visa") else ""
        raise ConfigError(
            f"dataset root {root} does not exist; pass dataset.root=/path/to/{Path(root).name} "
            f"(or set WINCLIP_DATA to the folder that holds it){fetch}"
        )
    from winclip_lit.data import download_mvtec, download_visa

    fetchers = {"mvtec": download_mvtec, "visa": download_visa}
    if name not in fetchers:
        raise ConfigError(f"dataset.download=true is not supported for dataset {name!r}")
    try:
        fetchers[name](root)
    except OSError as error:
        raise ConfigError(
            f"could not download {name} into {root} ({error}); download it by hand and pass dataset.root=..."
        ) from error


def build_datamodule(cfg: DictConfig, model: Any, k_shot: int | None = None) -> Any:
    """The configured datamodule for ``model``'s transform; ``k_shot`` overrides ``shot.k``.

    Call :func:`prepare_dataset` first (before loading the model) for CLI-friendly errors and downloads.
    """
    spec = OmegaConf.to_container(cfg.dataset, resolve=True)
    kwargs = {key: value for key, value in spec.items() if key not in RUN_DATASET_KEYS}
    return get_class(spec["_target_"])(
        **kwargs,
        transform=model.transform,
        image_size=model.image_size,
        k_shot=int(cfg.shot.k if k_shot is None else k_shot),
        seed=int(cfg.shot.seed),
        batch_size=int(cfg.loader.batch_size),
        num_workers=int(cfg.loader.num_workers),
    )


def category_setup(
    datamodule: Any, category: str, checkpoint: Checkpoint | None = None
) -> tuple[CategorySetup, list[str]]:
    """What the model needs for ``category`` and the reference file names to record with the results:
    the checkpoint's state, or the datamodule's seeded reference images (none when zero-shot)."""
    if checkpoint is not None:
        return CategorySetup(category, state=checkpoint.state(category)), checkpoint.references.get(
            category, []
        )
    files = datamodule.reference_files(category)
    setup = CategorySetup(category, datamodule.reference_images(category), [str(f) for f in files])
    return setup, datamodule.reference_names(category)


def build_metrics(cfg: DictConfig, pixel: bool) -> Any:
    """Image (and, with masks, pixel) metrics as configured."""
    from winclip_lit.metrics import AnomalyMetrics

    return AnomalyMetrics(
        mode=cfg.metrics.mode,
        num_thresholds=int(cfg.metrics.num_thresholds),
        fpr_limit=float(cfg.metrics.fpr_limit),
        pixel=pixel,
        max_exact_gb=cfg.metrics.get("max_exact_gb", 4.0),
    )


def build_cache(cfg: DictConfig, model: Any) -> Any | None:
    """The on-disk feature cache when ``cache.enabled``, else None."""
    if not cfg.cache.enabled:
        return None
    from winclip_lit.cache import FeatureCache

    return FeatureCache(Path(cfg.cache.dir).expanduser(), model.feature_fingerprint())


def wants_gpu(trainer_cfg: DictConfig) -> bool:
    """Whether the trainer config asks for GPUs (``gpu``/``cuda``, or ``auto`` with CUDA present)."""
    accelerator = str(trainer_cfg.accelerator)
    return accelerator in ("gpu", "cuda") or (accelerator == "auto" and torch.cuda.is_available())


def num_processes(trainer_cfg: DictConfig) -> int:
    """Processes per node that ``trainer.devices`` asks for (-1 / "auto": every visible GPU)."""
    devices = trainer_cfg.devices
    if isinstance(devices, int) and devices > 0:
        return devices
    if OmegaConf.is_list(devices):
        return len(devices)
    if str(devices) in ("-1", "auto"):
        return max(torch.cuda.device_count(), 1) if wants_gpu(trainer_cfg) else 1
    raise ConfigError(f"trainer.devices={devices!r} is invalid; use a positive count, -1 or a list of ids")


def quiet_lightning() -> None:
    """Keep Lightning's start-up chatter and known-harmless warnings off the console."""
    for name in ("lightning.pytorch", "lightning.fabric", "lightning"):
        logging.getLogger(name).setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message=r".*does not have many workers.*")
    # Lightning 2.6 calls a torch pytree API that torch 2.14 deprecates (nothing for users to do).
    warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\).*")
    # Padding duplicates of the DistributedSampler are removed by sample index in the metrics.
    warnings.filterwarnings("ignore", message=r".*Using `DistributedSampler` with the dataloaders.*")


def build_trainer(cfg: DictConfig, devices: Any = None) -> Any:
    """A test-only Lightning Trainer (no logger, checkpoints or model summary; Rich progress bars)."""
    import lightning as L
    from lightning.pytorch.callbacks import RichProgressBar

    quiet_lightning()
    spec = OmegaConf.to_container(cfg.trainer, resolve=True)
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
        logger=False,
        enable_checkpointing=False,
        enable_model_summary=False,
        enable_progress_bar=progress,
        callbacks=[RichProgressBar(leave=False)] if progress else [],
    )


def torch_device(cfg: DictConfig) -> torch.device:
    """The single device that fit/predict use: the first GPU when the trainer asks for GPUs, else CPU."""
    if wants_gpu(cfg.trainer):
        if not torch.cuda.is_available():
            raise ConfigError("trainer.accelerator=gpu but no CUDA device is visible; use trainer=cpu")
        return torch.device("cuda")
    return torch.device("cpu")
