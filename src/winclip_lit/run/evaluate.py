"""evaluate.py: load CLIP once, then per category set prompts and references and run the test loop."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from typing import Any

from omegaconf import DictConfig, OmegaConf

from winclip_lit.lit_module import WinCLIPModule
from winclip_lit.run.build import (
    build_cache,
    build_datamodule,
    build_metrics,
    build_model,
    build_trainer,
    category_setup,
    prepare_dataset,
    wants_gpu,
)
from winclip_lit.run.checkpoint import Checkpoint
from winclip_lit.run.context import RunContext, console, process_rank
from winclip_lit.run.distributed import gpu_slot, launch
from winclip_lit.run.tables import METRIC_LABELS, percent, write_results
from winclip_lit.tracking import start_tracker

SUMMARY_KEYS = ("image_auroc", "pixel_auroc", "pixel_aupro")


def _clean(metrics: dict[str, float]) -> dict[str, float | None]:
    return {k: (None if v is None or math.isnan(v) else float(v)) for k, v in metrics.items()}


def _summary(metrics: dict[str, float | None]) -> str:
    return ", ".join(f"{METRIC_LABELS[k]} {percent(metrics.get(k))}" for k in SUMMARY_KEYS if k in metrics)


def with_checkpoint(cfg: DictConfig) -> tuple[DictConfig, Checkpoint | None]:
    """``cfg`` with the model-defining groups of ``cfg.ckpt_path`` (if any) and the loaded checkpoint."""
    if not cfg.get("ckpt_path"):
        return cfg, None
    checkpoint = Checkpoint.load(cfg.ckpt_path)
    merged, replaced = checkpoint.configure(cfg)
    if replaced and process_rank() == 0:
        console.print(f"checkpoint {cfg.ckpt_path}: using its {', '.join(replaced)} settings")
    return merged, checkpoint


def run_evaluation(cfg: DictConfig, run: RunContext) -> dict[str, Any] | None:
    """Evaluate every configured category on this rank; rank 0 writes and returns ``metrics.json``."""
    from winclip_lit.metrics import METRIC_KEYS

    cfg, checkpoint = with_checkpoint(cfg)
    prepare_dataset(cfg)
    rank0 = process_rank() == 0
    model = build_model(cfg)
    if checkpoint:
        checkpoint.check_features(model.feature_fingerprint(), cfg.ckpt_path)
    datamodule = build_datamodule(cfg, model, k_shot=0 if checkpoint else None)
    num_samples = int(cfg.logger.get("num_images", 0)) if rank0 else 0
    module = WinCLIPModule(
        model,
        build_metrics(cfg, pixel=datamodule.has_masks()),
        cache=build_cache(cfg, model),
        num_samples=num_samples,
    )
    config = OmegaConf.to_container(cfg, resolve=True)
    results: dict[str, dict[str, float | None]] = {}
    references: dict[str, list[str]] = {}
    throughput: dict[str, float] = {}
    with _devices(cfg, run) as devices:
        trainer = build_trainer(cfg, devices)
        tracker = start_tracker(cfg.logger, run, float(cfg.predict.threshold)) if rank0 else None
        with tracker or contextlib.nullcontext():
            if tracker:
                tracker.log_config(config)
            for category in datamodule.categories:
                datamodule.select(category)
                setup, references[category] = category_setup(datamodule, category, checkpoint)
                module.prepare(setup)
                trainer.test(module, datamodule=datamodule, verbose=False)
                results[category] = _clean(module.results)
                throughput[category] = len(datamodule.test_dataset) / max(module.seconds, 1e-9)
                if tracker:
                    tracker.log_category(
                        category,
                        results[category],
                        throughput[category],
                        module.samples,
                        references[category],
                    )
                    console.print(
                        f"{category}: {_summary(results[category])} "
                        f"({len(datamodule.test_dataset)} images, {throughput[category]:.3g} images/s)"
                    )
            if not rank0:
                return None
            keys = [k for k in METRIC_KEYS if any(k in row for row in results.values())]
            payload = write_results(run.output_dir, results, keys, references, config, throughput)
            tracker.log_summary(results, payload["mean"])
    if module.cache is not None:
        console.print(
            f"feature cache {module.cache.root}: {module.cache.hits} reused, {module.cache.misses} encoded"
        )
    console.print(
        f"mean over {len(results)} categories: {_summary(payload['mean'])} -> {run.output_dir / 'metrics.json'}"
    )
    return payload


@contextlib.contextmanager
def _devices(cfg: DictConfig, run: RunContext) -> Iterator[Any]:
    """Device choice of one job: under a parallel sweep, one free GPU of its own; else as configured."""
    import torch

    single_gpu = wants_gpu(cfg.trainer) and cfg.trainer.devices == 1
    if run.multirun and single_gpu and torch.cuda.device_count() > 1:
        with gpu_slot(run.output_dir.parent / ".gpu_locks", torch.cuda.device_count()) as index:
            yield [index]
    else:
        yield None


def evaluate(cfg: DictConfig, run: RunContext) -> dict[str, Any] | None:
    """Evaluate on every device the trainer config asks for (extra DDP ranks started here)."""
    return launch(run_evaluation, cfg, run)
