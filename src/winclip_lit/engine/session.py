"""The start-up of every task, written once: checkpoint -> data preparation -> threads -> model -> feature
check -> cache, then the datamodule, loaders and trainer built from their own config nodes.

Examples:
    >>> session = start_session(cfg, run)                          # doctest: +SKIP
    >>> trainer = session.trainer(loggers=loggers)                 # doctest: +SKIP
    >>> trainer.test(session.module(), datamodule=session.datamodule())  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from omegaconf import DictConfig

from winclip_lit.engine.build import build_cache, build_datamodule, build_model, build_trainer
from winclip_lit.engine.checkpoint import Checkpoint, with_checkpoint
from winclip_lit.engine.context import RunContext
from winclip_lit.engine.data import prepare_dataset
from winclip_lit.engine.devices import loader_workers, pin_memory, set_threads

if TYPE_CHECKING:
    import lightning as L
    from torch.utils.data import DataLoader, Dataset

    from winclip_lit.cache import FeatureCache
    from winclip_lit.data import AnomalyDataModule
    from winclip_lit.model import WinCLIP

Preparation = Callable[[DictConfig, "Checkpoint | None"], None]
"""What a task checks or fetches after the checkpoint is read and before the model loads (fail fast)."""


def prepare_data(cfg: DictConfig, checkpoint: Checkpoint | None) -> None:
    """The default preparation: the dataset must be there (or is downloaded with ``dataset.download``)."""
    prepare_dataset(cfg)


@dataclass
class Session:
    """One run's loaded pieces, shared by the task's steps.

    Attributes:
        cfg: The run config, with a checkpoint's feature options and reference draw applied.
        run: Where the run writes and how it is named.
        checkpoint: The ``ckpt_path`` checkpoint, or None.
        model: The WinCLIP model on the CPU (Lightning moves it).
        cache: The feature cache when ``cache.enabled``, else None.
    """

    cfg: DictConfig
    run: RunContext
    checkpoint: Checkpoint | None
    model: WinCLIP
    cache: FeatureCache | None

    def datamodule(self, k_shot: int | None = None) -> AnomalyDataModule:
        """The configured datamodule; with a checkpoint its references come from there (``k_shot=0``)."""
        if k_shot is None and self.checkpoint is not None:
            k_shot = 0
        return build_datamodule(self.cfg, self.model, k_shot=k_shot)

    def trainer(
        self, devices: Any = None, loggers: list | None = None, callbacks: list | None = None
    ) -> L.Trainer:
        """A Lightning Trainer from the ``trainer`` node (``devices`` replaces ``trainer.devices``)."""
        return build_trainer(self.cfg.trainer, devices, loggers, callbacks)

    def loader(self, dataset: Dataset, **kwargs: Any) -> DataLoader:
        """A DataLoader of ``dataset`` with the ``loader`` node's batch size, workers and pinned memory."""
        from torch.utils.data import DataLoader

        options = {
            "batch_size": int(self.cfg.loader.batch_size),
            "num_workers": loader_workers(self.cfg.loader, self.cfg.trainer),
            "pin_memory": pin_memory(self.cfg.loader, self.cfg.trainer),
        }
        return DataLoader(dataset, **(options | kwargs))


def start_session(cfg: DictConfig, run: RunContext, prepare: Preparation | None = prepare_data) -> Session:
    """Do a task's start-up in the one order every task uses.

    Args:
        cfg: The validated run config.
        run: The run's context.
        prepare: Checks or downloads that need the checkpoint but not the model (None: nothing).
    """
    cfg, checkpoint = with_checkpoint(cfg, run)
    if prepare is not None:
        prepare(cfg, checkpoint)
    set_threads(cfg.get("num_threads"), cfg.trainer)
    model = build_model(cfg)
    if checkpoint is not None:
        checkpoint.check_features(model.feature_fingerprint())
    return Session(cfg, run, checkpoint, model, build_cache(cfg.cache, model))
