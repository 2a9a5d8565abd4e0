"""predict: score a folder of unlabeled images through Lightning's predict loop; write ``scores.csv``, map
overlays and binary masks at the calibrated (or given) thresholds.

What is listed, how overlays are named, what is skipped and what is written is shared with the exported
backends (:mod:`winclip_lit.reporting.predictions`).
"""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig

from winclip_lit.config.errors import ConfigError
from winclip_lit.data.unlabeled import PredictImages
from winclip_lit.engine.category import category_inputs
from winclip_lit.engine.checkpoint import Checkpoint
from winclip_lit.engine.context import RunContext, console, process_rank
from winclip_lit.engine.distributed import launch
from winclip_lit.engine.session import start_session
from winclip_lit.reporting.predictions import (
    choose_thresholds,
    finish_prediction,
    input_images,
    overlay_names,
)

DEFAULT_CATEGORY = "object"


def predict_category(category: str | None, shots: int, checkpoint: Checkpoint | None) -> str:
    """The category whose checkpoint entry (or class name) scores the images.

    Args:
        category: ``predict.category`` (None: the checkpoint's only category, else a generic object).
        shots: ``shot.k``: few-shot prediction needs a checkpoint with the references' memory.
        checkpoint: The ``ckpt_path`` checkpoint, or None.
    """
    if checkpoint is not None and category is None:
        if len(checkpoint.states) != 1:
            raise ConfigError(
                f"the checkpoint holds {len(checkpoint.states)} categories; choose one with "
                f"predict.category=<{'|'.join(sorted(checkpoint.states))}>"
            )
        return next(iter(checkpoint.states))
    if checkpoint is None and shots > 0:
        raise ConfigError(
            f"shot.k={shots} needs reference images: build them with `winclip-lit train ...` and pass "
            "ckpt_path=<run dir>/checkpoint.pt (zero-shot prediction needs no checkpoint)"
        )
    return category or DEFAULT_CATEGORY


def run_prediction(cfg: DictConfig, run: RunContext) -> Path | None:
    """Score every image of ``predict.input_dir`` on this rank; rank 0 writes ``scores.csv``."""
    from winclip_lit.callbacks.prediction_writer import PredictionWriter
    from winclip_lit.lit_module import WinCLIPModule

    root = Path(cfg.predict.input_dir).expanduser()
    files: list[Path] = []
    category = DEFAULT_CATEGORY

    def check_inputs(cfg: DictConfig, checkpoint: Checkpoint | None) -> None:
        nonlocal files, category
        files = input_images(root)
        category = predict_category(cfg.predict.category, int(cfg.shot.k), checkpoint)

    session = start_session(cfg, run, prepare=check_inputs)
    cfg, model, checkpoint = session.cfg, session.model, session.checkpoint
    module = WinCLIPModule(model, cache=session.cache)
    module.set_category(category_inputs(category, None, checkpoint)[0])
    decision = choose_thresholds(
        cfg.predict.get("threshold"),
        checkpoint.thresholds.get(category) if checkpoint else None,
        f"checkpoint {cfg.ckpt_path}" if checkpoint else "a zero-shot run without ckpt_path",
    )
    writer = PredictionWriter(
        run.output_dir, files, overlay_names(files, root), decision.image, decision.pixel
    )
    trainer = session.trainer(callbacks=[writer])
    loader = session.loader(PredictImages(files, model.transform, model.image_size))
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
    if cfg.predict.get("split") is not None:
        from winclip_lit.tasks.predict_submission import run_submission

        return launch(run_submission, cfg, run)
    if not cfg.predict.input_dir:
        raise ConfigError(
            "predict.input_dir is not set; pass predict.input_dir=/path/to/images "
            "(or predict.split=test_private with dataset=mvtec_ad2 for a benchmark submission)"
        )
    return launch(run_prediction, cfg, run)
