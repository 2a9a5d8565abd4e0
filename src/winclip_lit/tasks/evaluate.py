"""evaluate: load CLIP once, then per category set prompts and references and run Lightning's test loop.

Each category's results are appended to ``metrics.partial.jsonl`` as soon as it finishes, so a crash in
category 12 of 15 keeps the first 11; ``resume=true`` with the same ``hydra.run.dir`` skips them.
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from winclip_lit.callbacks.category_results import CategoryResults
from winclip_lit.callbacks.dashboard import build_dashboard
from winclip_lit.callbacks.panels import RunSummary
from winclip_lit.config.errors import ConfigError
from winclip_lit.config.keys import result_keys_of, setting_of
from winclip_lit.engine.build import build_metrics
from winclip_lit.engine.calibration import category_thresholds, checkpoint_thresholds, hold_out_validation
from winclip_lit.engine.category import category_inputs
from winclip_lit.engine.category_metrics import (
    defect_groups,
    has_both_labels,
    metrics_for,
    quiet_undefined_image_metrics,
)
from winclip_lit.engine.checkpoint import Checkpoint
from winclip_lit.engine.context import RunContext, console, process_rank
from winclip_lit.engine.data import prepare_dataset
from winclip_lit.engine.devices import wants_gpu
from winclip_lit.engine.distributed import gpu_slot, launch
from winclip_lit.engine.session import start_session
from winclip_lit.files import append_line
from winclip_lit.loggers.build import build_loggers, log_config, log_mean, logging_session
from winclip_lit.metrics.choice import defined_metrics
from winclip_lit.reporting.image_scores import write_category_scores
from winclip_lit.reporting.tables import METRIC_LABELS, PARTIAL_FILE, percent, write_results

SUMMARY_KEYS = ("image_auroc", "pixel_auroc", "pixel_aupro")


def _clean(metrics: dict[str, float]) -> dict[str, float | None]:
    return {k: (None if v is None or math.isnan(v) else float(v)) for k, v in metrics.items()}


def _summary(metrics: dict[str, float | None]) -> str:
    """``image AUROC 97.3%, ...``: the headline metrics in percent."""
    parts = []
    for key in (k for k in SUMMARY_KEYS if k in metrics):
        value = metrics.get(key)
        parts.append(f"{METRIC_LABELS[key]} {percent(value)}{'' if value is None else '%'}")
    return ", ".join(parts)


def differing_keys(saved: dict[str, Any], setting: dict[str, Any]) -> str:
    """``key: saved value -> current value`` for every result-defining key that differs ("" when none)."""
    current = json.loads(json.dumps(setting, default=str))
    keys = sorted(k for k in saved.keys() | current.keys() if saved.get(k, "-") != current.get(k, "-"))
    return ", ".join(f"{k}: {saved.get(k, '-')} -> {current.get(k, '-')}" for k in keys)


def finished_categories(output_dir: Path, setting: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Categories already in ``metrics.partial.jsonl`` of ``output_dir`` for the same setting."""
    path = output_dir / PARTIAL_FILE
    if not path.is_file():
        return {}
    done: dict[str, dict[str, Any]] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            category = entry["category"]
        except (json.JSONDecodeError, KeyError, TypeError):
            raise ConfigError(
                f"{path}:{number} is not a results line; delete that line or the file"
            ) from None
        differing = differing_keys(result_keys_of(entry.get("setting") or {}), setting)
        if differing:
            raise ConfigError(
                f"resume=true: {path} holds results of another config ({differing}); resume with the same "
                "settings or choose a new hydra.run.dir"
            )
        done[category] = entry
    return done


def run_setting(cfg: DictConfig) -> dict[str, Any]:
    """The result-defining settings of a run (with its seed), as ``metrics.partial.jsonl`` records them."""
    config = OmegaConf.to_container(cfg, resolve=True)
    return setting_of(config) | {"seed": config.get("seed")}


def run_evaluation(cfg: DictConfig, run: RunContext) -> dict[str, Any] | None:
    """Evaluate every configured category on this rank; rank 0 writes and returns ``metrics.json``."""
    from winclip_lit.lit_module import WinCLIPModule
    from winclip_lit.metrics import METRIC_KEYS
    from winclip_lit.metrics.thresholds import THRESHOLD_KEYS

    rank0 = process_rank() == 0
    done: dict[str, dict[str, Any]] = {}

    def prepare(cfg: DictConfig, checkpoint: Checkpoint | None) -> None:
        nonlocal done
        prepare_dataset(cfg)
        if cfg.resume:  # a refusal comes before the model loads
            done = finished_categories(run.output_dir, run_setting(cfg))

    session = start_session(cfg, run, prepare=prepare)
    cfg, model, checkpoint = session.cfg, session.model, session.checkpoint
    config = OmegaConf.to_container(cfg, resolve=True)
    setting = run_setting(cfg)
    datamodule = session.datamodule()
    hold_out_validation(cfg, datamodule)
    module = WinCLIPModule(
        model, build_metrics(cfg.metrics, pixel=datamodule.has_masks()), cache=session.cache
    )
    results: dict[str, dict[str, float | None]] = {}
    references: dict[str, list[str]] = {}
    throughput: dict[str, float] = {}
    by_type: dict[str, dict[str, dict[str, float | None]]] = {}
    loggers = build_loggers(cfg.get("logger"), run) if rank0 else []
    dashboard = build_dashboard(cfg.dashboard, run, loggers)

    def record(module: WinCLIPModule) -> None:
        """Rank 0, right after a category's test loop: its line in metrics.partial.jsonl, then the console."""
        category = module.category_inputs.name
        results[category] = _clean(defined_metrics(module.results, has_both_labels(datamodule, category)))
        by_type[category] = {kind: _clean(m) for kind, m in module.results_by_type.items()}
        throughput[category] = len(datamodule.test_dataset) / max(module.seconds, 1e-9)
        entry = {
            "category": category,
            "metrics": results[category],
            "references": references[category],
            "images_per_s": throughput[category],
            "setting": setting,
            "by_defect_type": by_type[category],
        }
        append_line(run.output_dir / PARTIAL_FILE, json.dumps(entry, default=str))
        console.print(
            f"{category}: {_summary(results[category])} "
            f"({len(datamodule.test_dataset)} images, {throughput[category]:.3g} images/s)"
        )
        write_category_scores(
            run.output_dir,
            category,
            module.images,
            datamodule.root,
            module.thresholds,
            bool(cfg.dashboard.figures),
        )

    with _devices(cfg, run) as devices, logging_session(loggers):
        callbacks = [CategoryResults(record), *dashboard.callbacks]
        trainer = session.trainer(devices, loggers, callbacks=callbacks)
        log_config(loggers, config)
        for category in datamodule.categories:
            if category in done:
                entry = done[category]
                results[category], references[category] = entry["metrics"], entry["references"]
                by_type[category] = entry.get("by_defect_type", {})
                throughput[category] = entry.get("images_per_s", float("nan"))
                if rank0:
                    console.print(f"{category}: {_summary(results[category])} (resumed from {PARTIAL_FILE})")
                continue
            datamodule.select(category)
            module.metrics = metrics_for(cfg, datamodule, category, module.metrics)
            module.defect_groups = defect_groups(datamodule, category)
            inputs, references[category] = category_inputs(category, datamodule, checkpoint)
            module.thresholds = checkpoint_thresholds(cfg, checkpoint, category) or category_thresholds(
                cfg, module, datamodule, inputs
            )
            module.set_category(inputs)
            with quiet_undefined_image_metrics(datamodule, category):
                trainer.test(module, datamodule=datamodule, verbose=False)
        if not rank0:
            return None
        keys = [k for k in (*METRIC_KEYS, *THRESHOLD_KEYS) if any(k in row for row in results.values())]
        payload = write_results(run.output_dir, results, keys, references, config, throughput, by_type)
        log_mean(loggers, payload["mean"], step=len(results))
        dashboard.finish(RunSummary(results, payload["mean"], keys, config, run.output_dir, run.name))
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

    single_gpu = wants_gpu(cfg.trainer) and cfg.trainer.get("devices") == 1
    if run.multirun and single_gpu and torch.cuda.device_count() > 1:
        with gpu_slot(run.output_dir.parent / ".gpu_locks", torch.cuda.device_count()) as index:
            yield [index]
    else:
        yield None


def evaluate(cfg: DictConfig, run: RunContext) -> dict[str, Any] | None:
    """Evaluate on every device the trainer config asks for (extra DDP ranks started here)."""
    return launch(run_evaluation, cfg, run)
