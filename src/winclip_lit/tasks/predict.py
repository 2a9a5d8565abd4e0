"""predict: score a folder of unlabeled images through Lightning's predict loop; write ``scores.csv``, map
overlays and binary masks at the calibrated (or given) thresholds.

What is listed, how overlays are named, what is skipped and what is written is shared with the exported
backends (:mod:`winclip_lit.reporting.predictions`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig
from torch.utils.data import DataLoader, Dataset

from winclip_lit.config.errors import ConfigError
from winclip_lit.data.errors import DatasetError
from winclip_lit.data.io import load_image
from winclip_lit.engine.build import build_cache, build_model, build_trainer
from winclip_lit.engine.category import category_setup
from winclip_lit.engine.checkpoint import Checkpoint, with_checkpoint
from winclip_lit.engine.context import RunContext, console, process_rank
from winclip_lit.engine.devices import loader_workers, pin_memory, set_threads
from winclip_lit.engine.distributed import launch
from winclip_lit.reporting.predictions import (
    choose_thresholds,
    finish_prediction,
    input_images,
    overlay_names,
)

DEFAULT_CATEGORY = "object"


class PredictImages(Dataset):
    """Images to score; an unreadable file gives an item with ``ok=False`` instead of stopping the run."""

    def __init__(self, files: list[Path], transform: Any, image_size: int) -> None:
        self.files, self.transform, self.image_size = files, transform, image_size

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> dict[str, Any]:
        path = self.files[index]
        try:
            image, ok, reason = self.transform(load_image(path)), True, ""
        except DatasetError as error:
            image, ok, reason = torch.zeros(3, self.image_size, self.image_size), False, str(error)
        return {"image": image, "image_path": str(path), "index": index, "ok": ok, "reason": reason}


def predict_category(cfg: DictConfig, checkpoint: Checkpoint | None) -> str:
    """The category whose checkpoint entry (or class name) scores the images."""
    category = cfg.predict.category
    if checkpoint is not None and category is None:
        if len(checkpoint.states) != 1:
            raise ConfigError(
                f"the checkpoint holds {len(checkpoint.states)} categories; choose one with "
                f"predict.category=<{'|'.join(sorted(checkpoint.states))}>"
            )
        return next(iter(checkpoint.states))
    if checkpoint is None and int(cfg.shot.k) > 0:
        raise ConfigError(
            f"shot.k={cfg.shot.k} needs reference images: build them with `winclip-lit train ...` and pass "
            "ckpt_path=<run dir>/checkpoint.pt (zero-shot prediction needs no checkpoint)"
        )
    return category or DEFAULT_CATEGORY


def run_prediction(cfg: DictConfig, run: RunContext) -> Path | None:
    """Score every image of ``predict.input_dir`` on this rank; rank 0 writes ``scores.csv``."""
    from winclip_lit.callbacks.prediction_writer import PredictionWriter
    from winclip_lit.lit_module import WinCLIPModule

    cfg, checkpoint = with_checkpoint(cfg, run)
    root = Path(cfg.predict.input_dir).expanduser()
    files = input_images(root)
    category = predict_category(cfg, checkpoint)
    set_threads(cfg)
    model = build_model(cfg)
    if checkpoint:
        checkpoint.check_features(model.feature_fingerprint())
    module = WinCLIPModule(model, cache=build_cache(cfg, model))
    module.prepare(category_setup(category, None, checkpoint)[0])
    decision = choose_thresholds(
        cfg.predict.get("threshold"),
        checkpoint.thresholds.get(category) if checkpoint else None,
        f"checkpoint {cfg.ckpt_path}" if checkpoint else "a zero-shot run without ckpt_path",
    )
    writer = PredictionWriter(
        run.output_dir, files, overlay_names(files, root), decision.image, decision.pixel
    )
    trainer = build_trainer(cfg)
    trainer.callbacks.append(writer)
    loader = DataLoader(
        PredictImages(files, model.transform, model.image_size),
        batch_size=int(cfg.loader.batch_size),
        num_workers=loader_workers(cfg),
        pin_memory=pin_memory(cfg),
    )
    trainer.predict(module, dataloaders=loader, return_predictions=False)
    if process_rank() != 0:
        return None
    return finish_prediction(
        run.output_dir, writer.rows, writer.skipped, f"as {category!r}", decision, console.print
    )


def predict(cfg: DictConfig, run: RunContext) -> Path | None:
    """Predict on every device the trainer config asks for (extra DDP ranks started here)."""
    if cfg.predict.get("backend", "torch") != "torch":
        from winclip_lit.tasks.predict_exported import predict_exported

        return predict_exported(cfg, run)
    if not cfg.predict.input_dir:
        raise ConfigError("predict.input_dir is not set; pass predict.input_dir=/path/to/images")
    return launch(run_prediction, cfg, run)
