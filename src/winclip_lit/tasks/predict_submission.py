"""predict with ``predict.split``: every category of one or more dataset splits, written in its benchmark's
submission layout (MVTec AD 2: :mod:`winclip_lit.reporting.submission`) under ``<run dir>/submission/``
(``predict.split=[test_private,test_private_mixed]``: the whole upload in one folder).

The categories are the checkpoint's (``ckpt_path``), or ``dataset.categories`` when given or without a
checkpoint; each one's pixel threshold is ``predict.threshold``, else its calibrated one, else 0.5
(:func:`~winclip_lit.reporting.predictions.choose_thresholds`). Scoring runs through Lightning's predict
loop and :class:`~winclip_lit.callbacks.prediction_writer.PredictionWriter`, so ``scores.csv``, the
overlays and ``masks/`` are written as for a folder (named after the path below the dataset root).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from winclip_lit.config.errors import ConfigError
from winclip_lit.config.keys import override_key
from winclip_lit.data.unlabeled import PredictImages
from winclip_lit.engine.category import category_inputs
from winclip_lit.engine.checkpoint import Checkpoint
from winclip_lit.engine.context import RunContext, console, process_rank
from winclip_lit.engine.data import prepare_dataset
from winclip_lit.engine.session import start_session
from winclip_lit.reporting.predictions import (
    SCORE_COLUMNS,
    choose_thresholds,
    overlay_names,
    report_skipped,
)
from winclip_lit.reporting.submission import SUBMISSION_DIR, write_submission_image
from winclip_lit.reporting.tables import write_csv


def check_split(dataset: DictConfig, split: str) -> None:
    """Refuse a dataset without submission splits, or a split it does not have, with one line."""
    from hydra.utils import get_class

    target = dataset.get("_target_")
    splits: tuple[str, ...] = getattr(get_class(target), "submission_splits", ()) if target else ()
    if not splits:
        raise ConfigError(
            f"predict.split={split}: dataset={dataset.get('name')} has no unlabeled test split to write as a "
            "benchmark submission; use dataset=mvtec_ad2, or predict.input_dir=/path/to/images"
        )
    if split not in splits:
        raise ConfigError(
            f"predict.split={split} is not a submission split of dataset={dataset.get('name')}; "
            f"use one of {', '.join(splits)}"
        )


def split_names(split: Any) -> list[str]:
    """``predict.split`` as a list of split names (one name, or a list of them; repeats dropped)."""
    names = [split] if isinstance(split, str) else list(split)
    return list(dict.fromkeys(str(name) for name in names))


def submission_categories(cfg: DictConfig, checkpoint: Checkpoint | None, overrides: list[str]) -> Any:
    """The checkpoint's categories, unless ``dataset.categories`` is given (or there is no checkpoint)."""
    given = any(override_key(o) == "dataset.categories" for o in overrides if "=" in o)
    if checkpoint is None or given:
        return cfg.dataset.categories
    return list(checkpoint.states)


def run_submission(cfg: DictConfig, run: RunContext) -> Path | None:
    """Score every category's ``predict.split`` images on this rank; rank 0 writes ``scores.csv``.

    Returns:
        The submission folder (rank 0), else None.
    """
    from winclip_lit.callbacks.prediction_writer import PredictionWriter
    from winclip_lit.lit_module import WinCLIPModule

    splits = split_names(cfg.predict.split)

    def prepare(cfg: DictConfig, checkpoint: Checkpoint | None) -> None:
        for split in splits:
            check_split(cfg.dataset, split)
        prepare_dataset(cfg)
        OmegaConf.update(cfg, "dataset.categories", submission_categories(cfg, checkpoint, run.overrides))

    session = start_session(cfg, run, prepare=prepare)
    cfg, model, checkpoint = session.cfg, session.model, session.checkpoint
    datamodule = session.datamodule()
    files = {
        (category, split): datamodule.submission_files(category, split)
        for category in datamodule.categories
        for split in splits
    }
    folder = run.output_dir / SUBMISSION_DIR
    module = WinCLIPModule(model, cache=session.cache)
    rows: list[list[Any]] = []
    skipped: list[tuple[str, str]] = []
    where = f"checkpoint {cfg.ckpt_path}" if checkpoint else "a run without ckpt_path"
    for (category, split), images in files.items():
        if module.category_inputs is None or module.category_inputs.name != category:
            module.set_category(category_inputs(category, datamodule, checkpoint)[0])
        decision = choose_thresholds(
            cfg.predict.get("threshold"), checkpoint.thresholds.get(category) if checkpoint else None, where
        )

        def also(image: Path, anomaly_map: Any, pixel: float = decision.pixel) -> None:
            write_submission_image(folder, image, datamodule.root, anomaly_map, pixel)

        writer = PredictionWriter(
            run.output_dir,
            images,
            overlay_names(images, datamodule.root),
            decision.image,
            decision.pixel,
            also=also,
        )
        trainer = session.trainer(callbacks=[writer])
        loader = session.loader(PredictImages(images, model.transform, model.image_size))
        trainer.predict(module, dataloaders=loader, return_predictions=False)
        rows += writer.rows
        skipped += writer.skipped
        if process_rank() == 0:
            console.print(
                f"{category}: {len(writer.rows)} {split} images written, pixel threshold "
                f"{decision.pixel:.6g}; {decision.source}"
            )
    if process_rank() != 0:
        return None
    scores_file = write_csv(run.output_dir / "scores.csv", SCORE_COLUMNS, rows)
    report_skipped(
        run.output_dir, skipped, f"the submission and {scores_file} hold the other {len(rows)}", console.print
    )
    count = len(datamodule.categories)
    what = f"{count} categor{'y' if count == 1 else 'ies'}, {len(rows)} {' + '.join(splits)} images"
    if splits == [getattr(datamodule, "test_dir", None)]:  # the labelled split: nothing to upload
        console.print(f"submission layout ({what}) in {folder}: a local dry run of {split}, not for upload")
    else:
        console.print(f"submission ({what}) in {folder}: upload this folder to the benchmark server")
    return folder
