"""train.py: the "fit" of a training-free method: text embeddings and reference memory per category,
saved as one checkpoint that evaluate.py and predict.py use without the reference images."""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig, OmegaConf
from rich.progress import track

from winclip_lit.lit_module import WinCLIPModule
from winclip_lit.run.build import (
    build_cache,
    build_datamodule,
    build_model,
    category_setup,
    prepare_dataset,
    torch_device,
)
from winclip_lit.run.checkpoint import Checkpoint
from winclip_lit.run.context import RunContext, console

CHECKPOINT_NAME = "checkpoint.pt"


def fit(cfg: DictConfig, run: RunContext) -> Path:
    """Build every configured category's model state and save ``<output dir>/checkpoint.pt``."""
    prepare_dataset(cfg)
    model = build_model(cfg)
    datamodule = build_datamodule(cfg, model)
    module = WinCLIPModule(model, cache=build_cache(cfg, model))
    module.to(torch_device(cfg))
    checkpoint = Checkpoint(config=OmegaConf.to_container(cfg, resolve=True))
    for category in track(datamodule.categories, description="prompts and references", console=console):
        setup, checkpoint.references[category] = category_setup(datamodule, category)
        module.prepare(setup)
        module.apply_setup()
        checkpoint.states[category] = model.export_state()
    path = checkpoint.save(run.output_dir / CHECKPOINT_NAME)
    console.print(
        f"checkpoint of {len(checkpoint.states)} categories ({cfg.shot.k}-shot, seed {cfg.shot.seed}) -> {path}"
    )
    return path
