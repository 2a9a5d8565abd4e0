"""export.py: one deployable graph per category (ONNX, or OpenVINO IR) with its JSON sidecar.

Categories and their references come from a train.py checkpoint (``ckpt_path``), or else from the configured
dataset and shots; zero-shot graphs of named categories (``export.categories``) need neither. See
docs/deploy.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from omegaconf import DictConfig

from winclip_lit.deploy.export import export_onnx, export_openvino
from winclip_lit.deploy.sidecar import attach_thresholds
from winclip_lit.engine.build import build_datamodule
from winclip_lit.engine.category import category_inputs
from winclip_lit.engine.checkpoint import Checkpoint
from winclip_lit.engine.context import RunContext, console
from winclip_lit.engine.data import prepare_dataset
from winclip_lit.engine.errors import ConfigError
from winclip_lit.engine.session import start_session
from winclip_lit.lit_module import CategoryInputs, WinCLIPModule

if TYPE_CHECKING:
    from winclip_lit import WinCLIP

FORMATS = {"onnx": ".onnx", "openvino": ".xml"}


def _wanted(cfg: DictConfig) -> list[str] | None:
    """``export.categories`` as a list (a single name allowed), or None for all."""
    value = cfg.export.get("categories")
    if value is None:
        return None
    names = [str(value)] if isinstance(value, str) else [str(v) for v in value]
    return names or None


def _pick(available: list[str], wanted: list[str] | None, source: str) -> list[str]:
    if wanted is None:
        return available
    unknown = [name for name in wanted if name not in available]
    if unknown:
        raise ConfigError(
            f"export.categories: {', '.join(unknown)} not in the {source}; it has {', '.join(available)}"
        )
    return wanted


def _needs_dataset(cfg: DictConfig, checkpoint: Checkpoint | None) -> bool:
    """Whether categories and references come from the dataset (no checkpoint, not zero-shot by name)."""
    return checkpoint is None and not (int(cfg.shot.k) == 0 and _wanted(cfg) is not None)


def _prepare_dataset(cfg: DictConfig) -> None:
    """``prepare_dataset`` with what else would do when the dataset is missing."""
    shots = int(cfg.shot.k)
    try:
        prepare_dataset(cfg)
    except ConfigError as error:
        need = (
            f"shot.k={shots} needs reference images: pass ckpt_path=<train.py run>/checkpoint.pt or a dataset"
            if shots
            else "export needs categories: pass export.categories=[...] (zero-shot), ckpt_path=... or a dataset"
        )
        raise ConfigError(f"{need} ({error})") from error


def _category_inputs(cfg: DictConfig, model: WinCLIP, checkpoint: Checkpoint | None) -> list[CategoryInputs]:
    """What each exported category needs: the checkpoint's states, zero-shot prompts, or dataset references."""
    wanted = _wanted(cfg)
    if checkpoint is not None:
        names = _pick(list(checkpoint.states), wanted, f"checkpoint {cfg.ckpt_path}")
        return [CategoryInputs(name, state=checkpoint.state(name)) for name in names]
    if not _needs_dataset(cfg, checkpoint):
        return [CategoryInputs(name) for name in wanted]
    datamodule = build_datamodule(cfg, model)
    names = _pick(list(datamodule.categories), wanted, f"dataset {cfg.dataset.name}")
    return [category_inputs(name, datamodule)[0] for name in names]


def export(cfg: DictConfig, run: RunContext) -> list[Path]:
    """Write ``<output dir>/<category>.onnx`` (or ``.xml`` + ``.bin``) and ``<file>.json`` per category.

    Returns:
        The exported files, in category order.
    """
    file_format = str(cfg.export.format)
    if file_format not in FORMATS:
        raise ConfigError(f"export.format={file_format} is unknown; use {' or '.join(FORMATS)}")
    int8 = bool(cfg.export.int8)
    opset = None if cfg.export.get("opset") is None else int(cfg.export.opset)

    def prepare(cfg: DictConfig, checkpoint: Checkpoint | None) -> None:
        if _needs_dataset(cfg, checkpoint):
            _prepare_dataset(cfg)

    session = start_session(cfg, run, prepare=prepare)
    cfg, model, checkpoint = session.cfg, session.model, session.checkpoint
    module = WinCLIPModule(model, cache=session.cache)
    paths = []
    for inputs in _category_inputs(cfg, model, checkpoint):
        module.set_category(inputs)
        module.apply_category()
        target = run.output_dir / f"{inputs.name.replace('/', '_')}{FORMATS[file_format]}"
        write = export_onnx if file_format == "onnx" else export_openvino
        path = write(model, target, opset=opset, int8=int8)
        if checkpoint is not None and checkpoint.thresholds.get(inputs.name):
            attach_thresholds(path, checkpoint.thresholds[inputs.name])
        shots = 0 if model.reference is None else len(model.reference)
        console.print(f"{inputs.name}: {shots}-shot {file_format}{' int8' if int8 else ''} -> {path}")
        paths.append(path)
    console.print(f"{len(paths)} {file_format} graphs -> {run.output_dir}")
    return paths
