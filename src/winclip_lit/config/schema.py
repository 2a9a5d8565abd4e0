"""Structured (typed) configs of every config group, registered in Hydra's ConfigStore.

The model groups (``window``, ``prompt``, ``model``) are built from
:class:`~winclip_lit.model.options.WinCLIPOptions`, the one description of the model's options, so a new
option is a config key with its type and default at once. The YAML files under ``conf/`` pick values; the
schemas give every key a type, so ``shot.k=1.5`` or ``model.temperature=abc`` fail at composition.
Ranges are checked right after composition by :func:`winclip_lit.config.validate.validate`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, make_dataclass
from typing import Any, Dict, List, Optional  # noqa: UP035 - OmegaConf reads typing annotations

from omegaconf import MISSING

from winclip_lit.model.options import DEFAULT_MODEL_NAME, DEFAULT_PRETRAINED, option_fields, options_default

# OmegaConf types of the WinCLIPOptions annotations (written as strings under `from __future__ import
# annotations`). A new option with another annotation needs a line here.
_CONFIG_TYPES: dict[str, Any] = {
    "tuple[int, ...]": List[int],  # noqa: UP006
    "tuple[str, ...]": List[str],  # noqa: UP006
    "int": int,
    "float": float,
    "bool": bool,
    "str": str,
    "str | None": Optional[str],  # noqa: UP045
    "dict[str, str] | None": Optional[Dict[str, str]],  # noqa: UP006, UP045
}


def _group_schema(name: str, group: str) -> type:
    """A dataclass with the WinCLIPOptions fields of one config group (type and default from the options)."""
    fields = []
    for f in option_fields(group):
        config_type = _CONFIG_TYPES[str(f.type)]
        default = options_default(f)
        if isinstance(default, list):
            fields.append((f.name, config_type, field(default_factory=lambda d=default: list(d))))
        else:
            fields.append((f.name, config_type, field(default=default)))
    return make_dataclass(name, fields)


WindowConfig = _group_schema("WindowConfig", "window")
PromptConfig = _group_schema("PromptConfig", "prompt")
ModelConfig = _group_schema("ModelConfig", "model")


@dataclass
class BackboneConfig:
    """open_clip backbone: ``model_name`` + ``pretrained`` define the features; ``cache_dir`` is where."""

    model_name: str = DEFAULT_MODEL_NAME
    pretrained: Optional[str] = DEFAULT_PRETRAINED  # noqa: UP045
    cache_dir: Optional[str] = None  # noqa: UP045


@dataclass
class ShotConfig:
    """Few-shot setting: ``k`` normal reference images per category (0: zero-shot WinCLIP)."""

    k: int = 0


@dataclass
class LoaderConfig:
    """Test-set loading: images per batch, worker processes (None: chosen from the core count)."""

    batch_size: int = 8
    num_workers: Optional[int] = None  # noqa: UP045
    pin_memory: Optional[bool] = None  # noqa: UP045


@dataclass
class MetricsConfig:
    """Metric computation: ``exact`` (every distinct score a threshold) or ``binned``."""

    mode: str = "exact"
    num_thresholds: int = 1000
    fpr_limit: float = 0.3
    max_exact_gb: Optional[float] = 4.0  # noqa: UP045


@dataclass
class ThresholdConfig:
    """Decision threshold (docs/thresholds.md): ``method`` none | fixed | conformal | f1 and its options."""

    method: str = "none"
    value: float = 0.5
    alpha: float = 0.01
    num_calibration: int = 100
    validation_split: float = 0.2


@dataclass
class CacheConfig:
    """On-disk feature cache shared by sweep jobs."""

    enabled: bool = False
    dir: str = ".cache/winclip-features"


@dataclass
class PredictConfig:
    """predict: score a folder of unlabeled images, or a dataset split into a benchmark submission."""

    input_dir: Optional[str] = None  # noqa: UP045
    category: Optional[str] = None  # noqa: UP045
    threshold: Optional[float] = None  # noqa: UP045
    backend: str = "torch"
    model: Optional[str] = None  # noqa: UP045
    split: Any = None  # a split name, a list of them (one submission folder), or null


@dataclass
class ExportConfig:
    """export: one deployable graph per category (docs/deploy.md)."""

    format: str = "onnx"
    int8: bool = False
    opset: Optional[int] = 20  # noqa: UP045
    categories: Optional[List[str]] = None  # noqa: UP006, UP045


@dataclass
class DashboardConfig:
    """Figures and dashboard panels; ``<run dir>/figures/`` is written for every logger, ``none`` included."""

    num_images: int = 8
    max_curve_points: int = 1000
    figures: bool = True
    panels: Dict[str, Any] = field(default_factory=dict)  # noqa: UP006


@dataclass
class RunConfig:
    """The whole config of evaluate / train / predict (``conf/config.yaml`` picks the group options)."""

    backbone: BackboneConfig = field(default_factory=BackboneConfig)
    window: WindowConfig = field(default_factory=WindowConfig)  # type: ignore[valid-type]
    prompt: PromptConfig = field(default_factory=PromptConfig)  # type: ignore[valid-type]
    model: ModelConfig = field(default_factory=ModelConfig)  # type: ignore[valid-type]
    shot: ShotConfig = field(default_factory=ShotConfig)
    dataset: Dict[str, Any] = field(default_factory=dict)  # noqa: UP006
    logger: Optional[Dict[str, Any]] = None  # noqa: UP006, UP045
    trainer: Dict[str, Any] = field(default_factory=dict)  # noqa: UP006
    loader: LoaderConfig = field(default_factory=LoaderConfig)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    threshold: ThresholdConfig = field(default_factory=ThresholdConfig)
    cache: CacheConfig = field(default_factory=CacheConfig)
    predict: PredictConfig = field(default_factory=PredictConfig)
    export: ExportConfig = field(default_factory=ExportConfig)
    dashboard: DashboardConfig = field(default_factory=DashboardConfig)
    seed: int = 0
    torch_seed: int = 0
    num_threads: Optional[int] = None  # noqa: UP045
    ckpt_path: Optional[str] = None  # noqa: UP045
    resume: bool = False
    optimized_metric: Optional[str] = None  # noqa: UP045


@dataclass
class ReportConfig:
    """report: aggregate every metrics.json below ``dir``."""

    dir: str = MISSING
    output_dir: Optional[str] = None  # noqa: UP045
    figures: bool = True


SCHEMAS: dict[str, type] = {"winclip_run_schema": RunConfig, "winclip_report_schema": ReportConfig}
"""ConfigStore names of the top-level schemas (the first entry of conf/config.yaml's and report.yaml's
defaults lists)."""


def schema_fields(schema: type) -> list[str]:
    """Field names of a schema dataclass."""
    return [f.name for f in dataclasses.fields(schema)]
