"""Device policy: which accelerator and how many processes a run uses, CPU threads and loader workers."""

from __future__ import annotations

import os

from omegaconf import DictConfig, OmegaConf

from winclip_lit.config.errors import ConfigError


def usable_cores() -> int:
    """CPU cores this process may run on (the affinity mask, e.g. a SLURM or container limit)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def wants_gpu(trainer_cfg: DictConfig | dict) -> bool:
    """Whether the trainer config asks for GPUs (``gpu``/``cuda``, or ``auto`` with CUDA present)."""
    accelerator = str(trainer_cfg.get("accelerator", "auto"))
    if accelerator in ("gpu", "cuda"):
        return True
    if accelerator != "auto":
        return False
    import torch

    return torch.cuda.is_available()


def num_processes(trainer_cfg: DictConfig) -> int:
    """Processes per node that ``trainer.devices`` asks for (-1 / "auto": every visible GPU)."""
    devices = trainer_cfg.get("devices", 1)
    if isinstance(devices, int) and not isinstance(devices, bool) and devices > 0:
        return devices
    if OmegaConf.is_list(devices) or isinstance(devices, list):
        return len(devices)
    if str(devices) in ("-1", "auto"):
        if wants_gpu(trainer_cfg):
            import torch

            return max(torch.cuda.device_count(), 1)
        return 1
    raise ConfigError(f"trainer.devices={devices!r} is invalid; use a positive count, -1 or a list of ids")


def loader_workers(loader: DictConfig, trainer: DictConfig) -> int:
    """``loader.num_workers``, or when null: ``min(4, cores per process - 1)`` (0 with one core).

    Decoding and resizing a test image costs a few milliseconds against hundreds for the model, so a few
    workers keep the model busy; more only take cores from the model's matrix products on CPU runs.
    """
    configured = loader.get("num_workers")
    if configured is not None:
        return int(configured)
    per_process = usable_cores() // max(num_processes(trainer), 1)
    return max(0, min(4, per_process - 1))


def pin_memory(loader: DictConfig, trainer: DictConfig) -> bool:
    """``loader.pin_memory``, or when null: on exactly when the trainer uses a GPU."""
    configured = loader.get("pin_memory")
    return wants_gpu(trainer) if configured is None else bool(configured)


def set_threads(num_threads: int | None, trainer: DictConfig) -> int:
    """Set torch's intra-op threads to ``num_threads`` or the cores per process; returns the count."""
    import torch

    threads = num_threads or max(1, usable_cores() // max(num_processes(trainer), 1))
    if torch.get_num_threads() != threads:
        torch.set_num_threads(int(threads))
    return int(threads)
