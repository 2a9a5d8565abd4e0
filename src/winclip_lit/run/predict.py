"""predict.py: score a folder of unlabeled images; write per-image scores (CSV) and map overlays (PNG)."""

from __future__ import annotations

import csv
from pathlib import Path

from omegaconf import DictConfig
from rich.progress import track
from torch.utils.data import DataLoader

from winclip_lit.data.dataset import AnomalyTestDataset, TestRecord
from winclip_lit.data.io import list_images
from winclip_lit.lit_module import CategorySetup, WinCLIPModule
from winclip_lit.run.build import build_cache, build_model, torch_device
from winclip_lit.run.checkpoint import Checkpoint
from winclip_lit.run.context import RunContext, console
from winclip_lit.run.errors import ConfigError
from winclip_lit.run.evaluate import with_checkpoint
from winclip_lit.run.visualize import panel, save_panel

DEFAULT_CATEGORY = "object"


def _category_setup(cfg: DictConfig, checkpoint: Checkpoint | None) -> CategorySetup:
    """Prompts/references for the images: the checkpoint's entry, or zero-shot prompts from the config."""
    category = cfg.predict.category
    if checkpoint is not None:
        if category is None:
            if len(checkpoint.states) != 1:
                raise ConfigError(
                    f"the checkpoint holds {len(checkpoint.states)} categories; choose one with "
                    f"predict.category=<{'|'.join(sorted(checkpoint.states))}>"
                )
            category = next(iter(checkpoint.states))
        return CategorySetup(category, state=checkpoint.state(category))
    if int(cfg.shot.k) > 0:
        raise ConfigError(
            f"shot.k={cfg.shot.k} needs reference images: build them with `python train.py ...` and pass "
            "ckpt_path=<run dir>/checkpoint.pt (zero-shot prediction needs no checkpoint)"
        )
    return CategorySetup(category or DEFAULT_CATEGORY)


def predict(cfg: DictConfig, run: RunContext) -> Path:
    """Write ``scores.csv`` and ``overlays/<image stem>.png`` for every image of ``predict.input_dir``."""
    if not cfg.predict.input_dir:
        raise ConfigError("predict.input_dir is not set; pass predict.input_dir=/path/to/images")
    cfg, checkpoint = with_checkpoint(cfg)
    setup = _category_setup(cfg, checkpoint)
    files = list_images(Path(cfg.predict.input_dir).expanduser(), "input images")
    model = build_model(cfg)
    if checkpoint:
        checkpoint.check_features(model.feature_fingerprint(), cfg.ckpt_path)
    module = WinCLIPModule(model, cache=build_cache(cfg, model))
    module.to(torch_device(cfg))
    module.prepare(setup)
    module.apply_setup()
    size = (model.image_size, model.image_size)
    records = [TestRecord(path, None, 0, "unknown") for path in files]
    loader = DataLoader(
        AnomalyTestDataset(records, model.transform, size, setup.name),
        batch_size=int(cfg.loader.batch_size),
        num_workers=int(cfg.loader.num_workers),
    )
    threshold = float(cfg.predict.threshold)
    overlays = run.output_dir / "overlays"
    rows = []
    for batch in track(loader, description=f"predict ({setup.name})", console=console):
        out = module(batch["image"].to(module.device), list(batch["image_path"]))
        scores = out.image_scores.float().cpu()
        maps = out.anomaly_maps.float().cpu()
        for path, score, anomaly_map in zip(batch["image_path"], scores, maps, strict=True):
            picture = save_panel(
                overlays / f"{Path(path).stem}.png", panel(path, anomaly_map.numpy(), threshold)
            )
            rows.append(
                [
                    path,
                    f"{float(score):.6f}",
                    f"{float(anomaly_map.max()):.6f}",
                    int(score >= threshold),
                    picture.name,
                ]
            )
    scores_file = run.output_dir / "scores.csv"
    with scores_file.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["image", "image_score", "max_pixel_score", "anomalous", "overlay"])
        writer.writerows(rows)
    flagged = sum(row[3] for row in rows)
    console.print(
        f"{len(rows)} images scored as {setup.name!r}: {flagged} at or above threshold {threshold} -> {scores_file}"
    )
    return scores_file
