"""train: the "fit" of a training-free method: text embeddings and reference memory per category, saved
as one checkpoint that evaluate, predict and export use without the reference images."""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig, OmegaConf
from rich.progress import track

from winclip_lit.run.build import build_cache, build_datamodule, build_model
from winclip_lit.run.checkpoint import Checkpoint
from winclip_lit.run.context import RunContext, console
from winclip_lit.run.datasets import prepare_dataset
from winclip_lit.run.devices import set_threads, torch_device
from winclip_lit.run.setup import category_setup

CHECKPOINT_NAME = "checkpoint.pt"


def fit(cfg: DictConfig, run: RunContext) -> Path:
    """Build every configured category's model state and save ``<output dir>/checkpoint.pt``."""
    from winclip_lit.lit_module import WinCLIPModule

    prepare_dataset(cfg)
    set_threads(cfg)
    model = build_model(cfg)
    datamodule = build_datamodule(cfg, model)
    module = WinCLIPModule(model, cache=build_cache(cfg, model))
    module.to(torch_device(cfg))
    checkpoint = Checkpoint(config=OmegaConf.to_container(cfg, resolve=True))
    for category in track(datamodule.categories, description="prompts and references", console=console):
        setup, checkpoint.references[category] = category_setup(category, datamodule)
        module.prepare(setup)
        module.apply_setup()
        checkpoint.states[category] = model.export_state()
    path = checkpoint.save(run.output_dir / CHECKPOINT_NAME)
    console.print(
        f"checkpoint of {len(checkpoint.states)} categories ({cfg.shot.k}-shot, seed {cfg.seed}) -> {path}"
    )
    return path
