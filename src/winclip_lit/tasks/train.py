"""train: the "fit" of a training-free method: text embeddings and reference memory per category, saved
as one checkpoint that evaluate, predict and export use without the reference images.

It runs through Lightning's predict loop (one item per category), so ``trainer.accelerator``,
``trainer.devices`` and ``trainer.strategy`` apply as in evaluate: with several devices the categories are
built in parallel and gathered on rank 0, which writes the checkpoint.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf
from torch.utils.data import DataLoader, Dataset

from winclip_lit.engine.calibration import train_thresholds
from winclip_lit.engine.category import category_inputs
from winclip_lit.engine.checkpoint import Checkpoint
from winclip_lit.engine.context import RunContext, console, process_rank
from winclip_lit.engine.distributed import launch
from winclip_lit.engine.session import start_session

CHECKPOINT_NAME = "checkpoint.pt"


class CategoryInputsDataset(Dataset):
    """The categories of a datamodule as items: each is the category's inputs with its reference images."""

    def __init__(self, datamodule: Any) -> None:
        self.datamodule, self.categories = datamodule, list(datamodule.categories)

    def __len__(self) -> int:
        return len(self.categories)

    def __getitem__(self, index: int) -> Any:
        return category_inputs(self.categories[index], self.datamodule)[0]


def run_training(cfg: DictConfig, run: RunContext) -> Path | None:
    """Build every configured category's model state on this rank; rank 0 saves ``checkpoint.pt``."""
    from winclip_lit.lit_module import WinCLIPTrainModule

    session = start_session(cfg, run)
    cfg, model = session.cfg, session.model
    datamodule = session.datamodule()
    module = WinCLIPTrainModule(model, cache=session.cache)
    loader = DataLoader(CategoryInputsDataset(datamodule), batch_size=None, shuffle=False)
    session.trainer().predict(module, dataloaders=loader, return_predictions=False)
    if process_rank() != 0:
        return None
    checkpoint = Checkpoint(config=OmegaConf.to_container(cfg, resolve=True))
    for category in datamodule.categories:
        checkpoint.states[category] = module.states[category]
        checkpoint.references[category] = datamodule.reference_names(category)
    checkpoint.thresholds = train_thresholds(cfg, module, datamodule, checkpoint.states)
    path = checkpoint.save(run.output_dir / CHECKPOINT_NAME)
    console.print(
        f"checkpoint of {len(checkpoint.states)} categories ({cfg.shot.k}-shot, seed {cfg.seed}) -> {path}"
    )
    return path


def train(cfg: DictConfig, run: RunContext) -> Path | None:
    """Train on every device the trainer config asks for (extra DDP ranks started here)."""
    return launch(run_training, cfg, run)
