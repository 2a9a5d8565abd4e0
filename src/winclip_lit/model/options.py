"""The one description of WinCLIP's options (Jeong et al., CVPR 2023, arXiv 2303.14814).

Every option has a *role*, and everything that needs the split derives it from here:

- ``feature``: the image features depend on it (backbone, weights, windows, stride, patch-feature choice,
  precision). It enters :meth:`WinCLIP.feature_fingerprint`, hence the feature-cache key and checkpoint
  compatibility.
- ``score``: the scores depend on it, the features do not (prompts, temperature, few-shot weight,
  smoothing). Sweeps over these reuse cached features; a checkpoint run applies them as a direct run does.
- ``runtime``: speed and memory only (chunk size, compile); never part of a result's identity.

Each option also names the config group that holds it (``window``, ``prompt``, ``model``, ``dataset`` or
``backbone``), so the Hydra schemas, the run layer's option mapping, job names and report grouping all come
from :data:`OPTION_SPECS`.

Examples:
    >>> WinCLIPOptions(temperature=0.01).temperature
    0.01
    >>> [spec.config_key for spec in option_specs(FEATURE)][:2]
    ['backbone.model_name', 'backbone.pretrained']
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from winclip_lit.model.errors import WinCLIPError
from winclip_lit.model.prompt_lists import ANOMALOUS_STATES, NORMAL_STATES, TEMPLATES, TEXT_AVERAGES

DEFAULT_MODEL_NAME = "ViT-B-16-plus-240"
"""The paper's backbone (open_clip name)."""
DEFAULT_PRETRAINED = "laion400m_e31"
"""The paper's weights (open_clip tag)."""

FEATURE = "feature"
SCORE = "score"
RUNTIME = "runtime"
ROLES = (FEATURE, SCORE, RUNTIME)

PRECISIONS = {"fp32": None, "bf16": "bfloat16", "fp16": "float16"}
"""Each ``precision`` and the torch dtype (by name) the image tower is autocast to; fp32: no autocast."""
PATCH_FEATURES = ("ln_post", "pre_ln_post", "projected")
"""Few-shot patch features: final tokens after ``ln_post`` (paper default, anomalib), before it
(Accurate-WinCLIP, mala-lab), or after ``ln_post`` and ``proj``."""
RESIZE_BACKENDS = ("pil", "tensor")
TILE_IMAGE_SCORES = ("max", "mean")


class InvalidOptionError(WinCLIPError, ValueError):
    """An option value outside its allowed range; ``option``, ``value`` and ``rule`` name the problem."""

    def __init__(self, option: str, value: Any, rule: str) -> None:
        self.option, self.value, self.rule = option, value, rule
        super().__init__(f"{option}={value!r}: {rule}")


def _opt(role: str, group: str, default: Any = dataclasses.MISSING, **kwargs: Any) -> Any:
    metadata = {"role": role, "group": group}
    if "default_factory" in kwargs:
        return field(metadata=metadata, **kwargs)
    return field(default=default, metadata=metadata)


@dataclass
class WinCLIPOptions:
    """Options of :class:`~winclip_lit.WinCLIP`; field metadata holds each one's role and config group."""

    # Window sizes in patch units (paper: 2 and 3, i.e. 32 and 48 px on a 16 px patch grid).
    scales: tuple[int, ...] = _opt(FEATURE, "window", (2, 3))
    # Window stride in patch units (paper: 1).
    stride: int = _opt(FEATURE, "window", 1)
    # Few-shot patch features: ln_post (paper default) | pre_ln_post | projected (docs/fidelity.md).
    patch_features: str = _opt(FEATURE, "model", "ln_post")
    # Resize of the preprocessing: pil (bicubic on the 8-bit image) | tensor (anomalib's float resize).
    resize_backend: str = _opt(FEATURE, "model", "pil")
    # Score non-square images as overlapping squares along their long side (else squash to a square).
    tiling: bool = _opt(FEATURE, "model", False)
    # Step between tiles as a fraction of the tile side (mala-lab: 0.8).
    tile_stride: float = _opt(FEATURE, "model", 0.8)
    # Autocast of the image tower: fp32 | bf16 | fp16 (scores are always computed in fp32).
    precision: str = _opt(FEATURE, "model", "fp32")
    # Softmax temperature tau of the two-class text scoring (arXiv 2303.14814; docs/algorithm.md 3).
    temperature: float = _opt(SCORE, "model", 0.07)
    # Prompt templates, each with one ``{}`` for the state phrase (22 in the paper).
    templates: tuple[str, ...] = _opt(SCORE, "prompt", TEMPLATES)
    # Normal state phrases, each with one ``{}`` for the object name (7 in the paper).
    normal_states: tuple[str, ...] = _opt(SCORE, "prompt", NORMAL_STATES)
    # Anomalous state phrases, each with one ``{}`` (4 in the paper).
    anomalous_states: tuple[str, ...] = _opt(SCORE, "prompt", ANOMALOUS_STATES)
    # ``normalized``: L2-normalise each sentence embedding before averaging; ``raw``: average as they are.
    text_average: str = _opt(SCORE, "prompt", "normalized")
    # One object name for every category (e.g. ``object``); None uses the category's name.
    fixed_class_name: str | None = _opt(SCORE, "prompt", None)
    # Category folder names verbatim in the prompts (``metal_nut``, ``pcb1``), as anomalib does.
    raw_class_names: bool = _opt(SCORE, "prompt", False)
    # Object name per category folder (None: the built-in VisA map; {}: none, folder names as they are).
    class_name_map: dict[str, str] | None = _opt(SCORE, "dataset", None)
    # Weight w of the few-shot part: map (1-w)*zero_shot + w*few_shot, same for the image score (paper 0.5).
    few_shot_weight: float = _opt(SCORE, "model", 0.5)
    # Gaussian smoothing of the final maps, sigma in pixels (0: off).
    smoothing_sigma: float = _opt(SCORE, "model", 0.0)
    # Image score of a tiled image from its tiles' scores: max | mean (mala-lab).
    tile_image_score: str = _opt(SCORE, "model", "max")
    # Tokens per transformer chunk of window sequences; bounds peak memory, never changes results.
    max_tokens: int = _opt(RUNTIME, "model", 32768)
    # ``torch.compile`` the image encoder (GPU runs of many images).
    compile: bool = _opt(RUNTIME, "model", False)

    def __post_init__(self) -> None:
        self.scales = tuple(self.scales)
        self.templates = tuple(self.templates)
        self.normal_states = tuple(self.normal_states)
        self.anomalous_states = tuple(self.anomalous_states)
        self.validate()

    def validate(self) -> None:
        """Raise :class:`InvalidOptionError` for the first value outside its allowed range."""
        if not self.scales:
            raise InvalidOptionError("scales", list(self.scales), "list at least one window size")
        if any(not _is_int(s) or s < 1 for s in self.scales):
            raise InvalidOptionError("scales", list(self.scales), "window sizes are integers >= 1")
        if len(set(self.scales)) != len(self.scales):
            raise InvalidOptionError("scales", list(self.scales), "window sizes must be distinct")
        if not _is_int(self.stride) or self.stride < 1:
            raise InvalidOptionError("stride", self.stride, "an integer >= 1")
        if self.precision not in PRECISIONS:
            raise InvalidOptionError("precision", self.precision, f"one of {', '.join(PRECISIONS)}")
        if not _is_number(self.temperature) or not self.temperature > 0:
            raise InvalidOptionError("temperature", self.temperature, "a number > 0 (paper: 0.07)")
        if not _is_number(self.few_shot_weight) or not 0.0 <= self.few_shot_weight <= 1.0:
            raise InvalidOptionError("few_shot_weight", self.few_shot_weight, "a number in [0, 1]")
        if not _is_number(self.smoothing_sigma) or self.smoothing_sigma < 0:
            raise InvalidOptionError("smoothing_sigma", self.smoothing_sigma, "a number >= 0 (0: off)")
        if not _is_int(self.max_tokens) or self.max_tokens < 1:
            raise InvalidOptionError("max_tokens", self.max_tokens, "an integer >= 1")
        if self.patch_features not in PATCH_FEATURES:
            raise InvalidOptionError(
                "patch_features", self.patch_features, f"one of {', '.join(PATCH_FEATURES)}"
            )
        if self.resize_backend not in RESIZE_BACKENDS:
            raise InvalidOptionError(
                "resize_backend", self.resize_backend, f"one of {', '.join(RESIZE_BACKENDS)}"
            )
        if self.tile_image_score not in TILE_IMAGE_SCORES:
            raise InvalidOptionError(
                "tile_image_score", self.tile_image_score, f"one of {', '.join(TILE_IMAGE_SCORES)}"
            )
        if not _is_number(self.tile_stride) or not 0.0 < self.tile_stride <= 1.0:
            raise InvalidOptionError("tile_stride", self.tile_stride, "a fraction of the tile side in (0, 1]")
        if self.text_average not in TEXT_AVERAGES:
            raise InvalidOptionError("text_average", self.text_average, f"one of {', '.join(TEXT_AVERAGES)}")
        for name in ("templates", "normal_states", "anomalous_states"):
            phrases = getattr(self, name)
            if not phrases:
                raise InvalidOptionError(name, list(phrases), "list at least one phrase")
            bad = [p for p in phrases if not isinstance(p, str) or p.count("{}") != 1]
            if bad:
                raise InvalidOptionError(name, bad[0], "every phrase holds exactly one {}")

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> WinCLIPOptions:
        """Options from a mapping; unknown names raise :class:`InvalidOptionError` with close names."""
        values = dict(values)
        if "project_patches" in values:  # the older switch for patch_features="projected"
            projected = bool(values.pop("project_patches"))
            if projected and values.get("patch_features", "projected") != "projected":
                raise InvalidOptionError(
                    "project_patches", True, "contradicts patch_features; use patch_features alone"
                )
            if projected:
                values["patch_features"] = "projected"
        known = {f.name for f in dataclasses.fields(cls)}
        for name in values:
            if name not in known:
                close = difflib.get_close_matches(name, sorted(known), n=1)
                hint = f"; did you mean {close[0]}?" if close else ""
                raise InvalidOptionError(name, values[name], f"not a WinCLIP option{hint}")
        return cls(**dict(values))

    def values(self, role: str | None = None) -> dict[str, Any]:
        """Option name -> value, for every option or for one role."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if role in (None, _role(f))}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _role(f: dataclasses.Field) -> str:
    return f.metadata["role"]


@dataclass(frozen=True)
class OptionSpec:
    """Where one option lives in the configs and what it defines.

    Attributes:
        name: Option name (a :class:`WinCLIPOptions` field or a backbone argument).
        group: Config group holding it.
        role: ``feature``, ``score`` or ``runtime``.
    """

    name: str
    group: str
    role: str

    @property
    def config_key(self) -> str:
        """Dotted config key, e.g. ``window.scales``."""
        return f"{self.group}.{self.name}"


BACKBONE_SPECS: tuple[OptionSpec, ...] = (
    OptionSpec("model_name", "backbone", FEATURE),  # open_clip model name (with its image size)
    OptionSpec("pretrained", "backbone", FEATURE),  # weights tag or checkpoint file
    OptionSpec("cache_dir", "backbone", RUNTIME),  # where downloaded weights are kept
)
"""The arguments of :func:`~winclip_lit.model.load_backbone` that the configs hold."""

OPTION_SPECS: tuple[OptionSpec, ...] = BACKBONE_SPECS + tuple(
    OptionSpec(f.name, f.metadata["group"], _role(f)) for f in dataclasses.fields(WinCLIPOptions)
)
"""Every model option with its config group and role: the single source of the feature/score/runtime split."""


def option_specs(role: str | None = None, group: str | None = None) -> list[OptionSpec]:
    """The specs of one role and/or group, in declaration order."""
    return [s for s in OPTION_SPECS if role in (None, s.role) and group in (None, s.group)]


def option_fields(group: str) -> list[dataclasses.Field]:
    """The :class:`WinCLIPOptions` fields held by one config group (for building its schema)."""
    return [f for f in dataclasses.fields(WinCLIPOptions) if f.metadata["group"] == group]


def options_default(f: dataclasses.Field) -> Any:
    """The default value of an options field (lists for tuples, as configs hold them)."""
    value = f.default_factory() if f.default is dataclasses.MISSING else f.default  # type: ignore[misc]
    return list(value) if isinstance(value, tuple) else value


def as_config_values(values: Sequence[Any] | Any) -> Any:
    """Tuples as lists (configs and JSON hold lists)."""
    return list(values) if isinstance(values, tuple) else values
