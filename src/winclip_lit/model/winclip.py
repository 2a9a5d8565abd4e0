"""WinCLIP (zero-shot) and WinCLIP+ (few-normal-shot) on an open_clip ViT.

Jeong et al., "WinCLIP: Zero-/Few-Shot Anomaly Classification and Segmentation", CVPR 2023
(arXiv 2303.14814), sections 3-4; the choices where the paper is silent are in docs/algorithm.md.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from winclip_lit.model.backbones import AUTO_PRETRAINED, DEFAULT_MODEL_NAME, load_backbone
from winclip_lit.model.category_state import CategoryState
from winclip_lit.model.encoder import WindowEncoder
from winclip_lit.model.errors import IncompatibleStateError
from winclip_lit.model.features import ImageFeatures
from winclip_lit.model.options import FEATURE, PRECISIONS, WinCLIPOptions
from winclip_lit.model.preprocess import OPENAI_MEAN, OPENAI_STD, ImageTransform
from winclip_lit.model.prompts import (
    class_name_for,
    compose_prompts,
    encode_prompt_set,
)
from winclip_lit.model.text_encoder import TextEncoder
from winclip_lit.model.tiling import cut_tiles, merge_tile_maps, merge_tile_scores
from winclip_lit.model.windows import coverage_matrix, harmonic_aggregate, harmonic_mean, window_indices

FEATURE_VERSION = 1


def autocast_dtype(precision: str) -> torch.dtype | None:
    """The dtype the image tower is autocast to for a ``precision`` option value (None: fp32, no autocast)."""
    name = PRECISIONS[precision]
    return None if name is None else getattr(torch, name)


@dataclass
class WinCLIPOutput:
    """Scores of a batch of images.

    Attributes:
        image_scores: (B,) anomaly probabilities in [0, 1].
        anomaly_maps: (B, H, W) anomaly maps at the input resolution, in [0, 1].
        zero_shot_maps: (B, H, W) the zero-shot (language-guided) maps.
        few_shot_maps: (B, H, W) the few-shot association maps, None in zero-shot mode.
    """

    image_scores: torch.Tensor
    anomaly_maps: torch.Tensor
    zero_shot_maps: torch.Tensor
    few_shot_maps: torch.Tensor | None = None


def association_scores(queries: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
    """``min_r (1 - cos(q, r)) / 2`` clamped at 0, for L2-normalised queries (B, N, D) and memory (M, D)."""
    nearest = (queries @ memory.T).amax(dim=-1)
    return ((1.0 - nearest) / 2.0).clamp_min(0.0)


def gaussian_blur(maps: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian smoothing of (B, H, W) maps with reflect padding (kernel radius 4 sigma)."""
    radius = max(1, int(4.0 * sigma + 0.5))
    x = torch.arange(-radius, radius + 1, device=maps.device, dtype=maps.dtype)
    kernel = torch.exp(-(x**2) / (2 * sigma**2))
    kernel = kernel / kernel.sum()
    out = maps[:, None]
    out = F.conv2d(F.pad(out, (radius, radius, 0, 0), mode="reflect"), kernel.view(1, 1, 1, -1))
    out = F.conv2d(F.pad(out, (0, 0, radius, radius), mode="reflect"), kernel.view(1, 1, -1, 1))
    return out[:, 0]


_OPTION_NAMES = frozenset(f.name for f in dataclasses.fields(WinCLIPOptions))


class WinCLIP(nn.Module):
    """WinCLIP / WinCLIP+ anomaly classification and segmentation.

    Args:
        clip_model: An open_clip CLIP model with a ViT image tower (class-token pooling).
        tokenizer: The open_clip tokenizer of ``clip_model``.
        image_size: Model input side in pixels (default: the ViT's).
        mean: Normalisation mean (default: the model's preprocess config, else OpenAI CLIP's).
        std: Normalisation std.
        model_name: Backbone name (recorded in the feature fingerprint).
        pretrained: Weights tag or path (recorded in the feature fingerprint).
        text_cache: Optional dict shared by models on the same CLIP weights: text embeddings keyed on the
            sentences, so sweeps over shots, seeds or temperature encode each prompt set once.
        **options: Any :class:`~winclip_lit.model.options.WinCLIPOptions` field (``scales``, ``stride``,
            ``temperature``, prompts, ``patch_features``, ``few_shot_weight``, ``tiling``, ...); each
            field's comment there says what it does and whether it defines the features, the scores or
            only the speed. ``project_patches=True`` is accepted for ``patch_features="projected"``.

    Raises:
        InvalidOptionError: An unknown option or a value outside its range (one line naming it).

    Examples:
        >>> from winclip_lit.model.backbones import load_backbone, TINY_MODEL_NAME
        >>> backbone = load_backbone(TINY_MODEL_NAME, None)
        >>> model = WinCLIP(backbone.model, backbone.tokenizer, scales=(2,), temperature=0.01)
        >>> model.set_class_name("bottle")
        >>> model(torch.zeros(1, 3, model.image_size, model.image_size)).anomaly_maps.shape
        torch.Size([1, 64, 64])
    """

    def __init__(
        self,
        clip_model: nn.Module,
        tokenizer: Any,
        *,
        image_size: int | None = None,
        mean: Sequence[float] | None = None,
        std: Sequence[float] | None = None,
        model_name: str | None = None,
        pretrained: str | None = None,
        text_cache: MutableMapping[tuple, torch.Tensor] | None = None,
        **options: Any,
    ) -> None:
        super().__init__()
        self.options = WinCLIPOptions.from_mapping(options)
        opts = self.options
        self.clip = clip_model.eval().requires_grad_(False)
        self.tokenizer = tokenizer
        self.text_encoder = TextEncoder(self.clip)
        self.encoder = WindowEncoder(
            clip_model.visual,
            scales=opts.scales,
            stride=opts.stride,
            patch_features=opts.patch_features,
            max_tokens=opts.max_tokens,
        )
        self.model_name = model_name
        self.pretrained = pretrained
        visual_size = clip_model.visual.image_size
        self.image_size = int(
            image_size or (visual_size[0] if isinstance(visual_size, Sequence) else visual_size)
        )
        cfg = getattr(clip_model.visual, "preprocess_cfg", None) or {}
        self.transform = ImageTransform(
            self.image_size,
            mean or cfg.get("mean", OPENAI_MEAN),
            std or cfg.get("std", OPENAI_STD),
            resize_backend=opts.resize_backend,
            keep_aspect=opts.tiling,
        )
        num_patches = self.encoder.num_patches
        for size in self.encoder.scales:
            cover = coverage_matrix(window_indices(self.encoder.grid, size, self.encoder.stride), num_patches)
            self.register_buffer(f"_coverage_{size}", cover, persistent=False)
        self.category_state = CategoryState(len(self.encoder.scales))
        self.category_state.register_load_state_dict_post_hook(self._check_loaded_category)
        self.text_cache = text_cache
        self._encode = torch.compile(self.encoder, dynamic=True) if opts.compile else self.encoder
        self._fingerprint: str | None = None

    def __setattr__(self, name: str, value: Any) -> None:
        """Options live once, in ``self.options``: ``model.temperature = x`` would change nothing, so it fails."""
        if name in _OPTION_NAMES and "options" in self.__dict__:
            raise AttributeError(
                f"WinCLIP.{name} is an option: set model.options.{name} (score options apply at once; feature "
                f"options need a new model: WinCLIP(..., {name}=...))"
            )
        super().__setattr__(name, value)

    @classmethod
    def from_pretrained(
        cls,
        model_name: str = DEFAULT_MODEL_NAME,
        pretrained: str | None = AUTO_PRETRAINED,
        cache_dir: str | None = None,
        device: str | torch.device = "cpu",
        **options: Any,
    ) -> WinCLIP:
        """Build WinCLIP on an open_clip backbone.

        Args:
            model_name: open_clip model name, ``hf-hub:org/repo`` or ``local-dir:/path``.
            pretrained: open_clip pretrained tag, a local open_clip weights file (not a ``winclip-lit train``
                checkpoint: load those with ``ckpt_path``), None for random weights; by default the
                paper's tag for the paper's model and none for ``TINY_MODEL_NAME``.
            cache_dir: Weights cache directory.
            device: Device of the model.
            **options: Any :class:`WinCLIP` constructor option (scales, temperature, prompts, ...).
        """
        backbone = load_backbone(model_name, pretrained, cache_dir=cache_dir, device=device)
        options.setdefault("mean", backbone.mean)
        options.setdefault("std", backbone.std)
        model = cls(
            backbone.model,
            backbone.tokenizer,
            model_name=model_name,
            pretrained=backbone.pretrained,
            **options,
        )
        return model.to(device)

    @property
    def device(self) -> torch.device:
        """Device of the model's parameters."""
        return self.encoder.visual.conv1.weight.device

    @property
    def dtype(self) -> torch.dtype:
        """dtype of the scores and of the category state (follows ``model.to(dtype)``; float32 by default)."""
        return self.category_state.text_embeddings.dtype

    @property
    def text_embeddings(self) -> torch.Tensor:
        """(2, D) text embeddings of the current category (row 0 normal); empty before ``set_class_name``."""
        return self.category_state.text_embeddings

    @property
    def reference(self) -> ImageFeatures | None:
        """The reference memory (features of the k references); None in zero-shot mode."""
        return self.category_state.reference

    @property
    def category(self) -> str | None:
        """The category of the current text embeddings."""
        return self.category_state.category

    @property
    def class_name(self) -> str | None:
        """The object name in the current category's prompts."""
        return self.category_state.class_name

    @property
    def scales(self) -> tuple[int, ...]:
        """Window sizes in patch units."""
        return self.encoder.scales

    @property
    def grid(self) -> tuple[int, int]:
        """Patch grid (rows, cols)."""
        return self.encoder.grid

    def class_name_of(self, category: str) -> str:
        """The object name that the prompts of a category use."""
        opts = self.options
        return class_name_for(category, opts.class_name_map, opts.fixed_class_name, opts.raw_class_names)

    def prompts(self, category: str) -> tuple[list[str], list[str]]:
        """The normal and anomalous sentences of a category."""
        name = self.class_name_of(category)
        templates = list(self.options.templates)
        return (
            compose_prompts(name, list(self.options.normal_states), templates),
            compose_prompts(name, list(self.options.anomalous_states), templates),
        )

    def _prompt_record(self, normal: list[str], anomalous: list[str]) -> dict[str, Any]:
        """The sentences (and averaging) of a category's text embeddings, as the category state records them."""
        return {"normal": normal, "anomalous": anomalous, "text_average": self.options.text_average}

    @torch.no_grad()
    def set_class_name(self, category: str) -> None:
        """Build the prompt ensemble and text embeddings ``T`` (2, D) for a category (row 0 normal).

        Sentences are encoded only up to the longest one where that is exact (:class:`TextEncoder`).
        """
        normal, anomalous = self.prompts(category)
        average = self.options.text_average
        key = (tuple(normal), tuple(anomalous), average)
        cached = None if self.text_cache is None else self.text_cache.get(key)
        if cached is None:
            rows = [
                encode_prompt_set(self.text_encoder, self.tokenizer, p, average, device=self.device)
                for p in (normal, anomalous)
            ]
            cached = torch.stack(rows)
            if self.text_cache is not None:
                self.text_cache[key] = cached.cpu()
        state = self.category_state
        state.text_embeddings = cached.to(self.device, self.dtype)
        state.category = category
        state.class_name = self.class_name_of(category)
        state.prompts = self._prompt_record(normal, anomalous)
        state.feature_fingerprint = self.feature_fingerprint()

    def clear(self) -> None:
        """Forget the category: no text embeddings, no reference memory (as a new model)."""
        state = self.category_state
        state.set_reference(None)
        state.text_embeddings = state.text_embeddings.new_empty(0)
        state.category = state.class_name = state.prompts = None

    def _check_images(self, images: torch.Tensor, what: str) -> None:
        expected = (3, self.image_size, self.image_size)
        if images.ndim == 4 and tuple(images.shape[1:]) == expected:
            return
        if self.options.tiling and images.ndim == 4 and images.shape[1] == 3:
            height, width = images.shape[-2:]
            if min(height, width) == self.image_size:
                return
        shape = f"(N, {expected[0]}, {expected[1]}, {expected[2]})"
        if self.options.tiling:
            shape += f" or, for tiling, (N, 3, H, W) with min(H, W) = {self.image_size}"
        raise ValueError(
            f"{what} must be a {shape} normalised tensor (use model.transform), got shape {tuple(images.shape)}"
        )

    @torch.no_grad()
    def encode(self, images: torch.Tensor) -> ImageFeatures:
        """Prompt-independent, L2-normalised features of normalised images (B, 3, S, S), in :attr:`dtype`."""
        self._check_images(images, "images")
        images = images.to(self.device, self.encoder.visual.conv1.weight.dtype)
        dtype = autocast_dtype(self.options.precision)
        autocast = (
            torch.autocast(device_type=images.device.type, dtype=dtype)
            if dtype is not None
            else contextlib.nullcontext()
        )
        height, width = images.shape[-2:]
        if height == width:
            with autocast:
                features = self._encode(images)
            return features.to(dtype=self.dtype)
        tiles = cut_tiles(images, self.options.tile_stride)  # (B, T, 3, S, S)
        with autocast:
            flat = self._encode(tiles.flatten(0, 1))
        n, t = tiles.shape[:2]
        return ImageFeatures(
            image=flat.image.unflatten(0, (n, t)),
            windows=tuple(w.unflatten(0, (n, t)) for w in flat.windows),
            patches=flat.patches.unflatten(0, (n, t)),
            canvas=torch.tensor([[height, width]], device=images.device).expand(n, 2).clone(),
        ).to(dtype=self.dtype)

    @torch.no_grad()
    def set_reference_images(self, images: torch.Tensor | None) -> None:
        """Encode k normal reference images (k, 3, S, S) as the few-shot memory; None -> zero-shot."""
        if images is None:
            self.category_state.set_reference(None)
            return
        self._check_images(images, "reference images")
        if images.shape[0] == 0:
            raise ValueError("reference images are empty; pass None for zero-shot")
        self.set_reference_features(self.encode(images))

    def set_reference_features(self, features: ImageFeatures | None) -> None:
        """Use already encoded reference features (from :meth:`encode` or a cache) as the memory."""
        if features is not None and len(features.windows) != len(self.scales):
            raise ValueError(
                f"reference features have {len(features.windows)} window scales, the model has {len(self.scales)}"
            )
        if features is not None:
            self.category_state.feature_fingerprint = self.feature_fingerprint()
        self.category_state.set_reference(features)

    def _text_probability(self, embeddings: torch.Tensor) -> torch.Tensor:
        logits = embeddings @ self.text_embeddings.T / self.options.temperature
        return logits.softmax(dim=-1)[..., 1]

    def _coverage(self, size: int) -> torch.Tensor:
        return getattr(self, f"_coverage_{size}")

    def _to_pixels(self, patch_scores: torch.Tensor) -> torch.Tensor:
        grid_maps = patch_scores.view(-1, 1, *self.grid)
        maps = F.interpolate(
            grid_maps, size=(self.image_size, self.image_size), mode="bilinear", align_corners=False
        )
        return maps[:, 0]

    def _smooth(self, maps: torch.Tensor | None) -> torch.Tensor | None:
        sigma = self.options.smoothing_sigma
        if maps is None or sigma <= 0:
            return maps
        return gaussian_blur(maps, sigma)

    @torch.no_grad()
    def score(self, features: ImageFeatures) -> WinCLIPOutput:
        """Image scores and anomaly maps from encoded features, the current prompts and the references."""
        if self.text_embeddings.numel() == 0:
            raise RuntimeError("call set_class_name(category) before scoring images")
        features = features.to(self.device, self.dtype)
        out = self._score_squares(features.tiles())
        if features.canvas is not None:
            out = self._merge_tiles(out, features)
        return WinCLIPOutput(
            out.image_scores,
            self._smooth(out.anomaly_maps),
            self._smooth(out.zero_shot_maps),
            self._smooth(out.few_shot_maps),
        )

    def _merge_tiles(self, out: WinCLIPOutput, features: ImageFeatures) -> WinCLIPOutput:
        canvas = features.canvas
        if not bool((canvas == canvas[:1]).all()):
            raise ValueError("tiled images of one batch must have one size; score them in separate batches")
        size = (int(canvas[0, 0]), int(canvas[0, 1]))
        n, t = len(features), features.num_tiles

        def merge(maps: torch.Tensor | None) -> torch.Tensor | None:
            if maps is None:
                return None
            return merge_tile_maps(maps.unflatten(0, (n, t)), size, self.options.tile_stride)

        return WinCLIPOutput(
            merge_tile_scores(out.image_scores.view(n, t), self.options.tile_image_score),
            merge(out.anomaly_maps),
            merge(out.zero_shot_maps),
            merge(out.few_shot_maps),
        )

    def _score_squares(self, features: ImageFeatures) -> WinCLIPOutput:
        """Scores and unsmoothed maps of square-image features (B, ...)."""
        image_prob = self._text_probability(features.image)
        zero_shot_parts = [image_prob[:, None].expand(-1, self.encoder.num_patches)]
        for size, windows in zip(self.scales, features.windows, strict=True):
            zero_shot_parts.append(harmonic_aggregate(self._text_probability(windows), self._coverage(size)))
        zero_shot = harmonic_mean(torch.stack(zero_shot_parts), dim=0)
        reference = self.reference
        if reference is None:
            return WinCLIPOutput(image_prob, self._to_pixels(zero_shot), self._to_pixels(zero_shot))
        patch_memory = reference.patches
        few_shot_parts = [
            association_scores(features.patches, patch_memory.reshape(-1, patch_memory.shape[-1]))
        ]
        for size, windows, memory in zip(self.scales, features.windows, reference.windows, strict=True):
            assoc = association_scores(windows, memory.reshape(-1, memory.shape[-1]))
            few_shot_parts.append(harmonic_aggregate(assoc, self._coverage(size)))
        few_shot = torch.stack(few_shot_parts).mean(dim=0)
        w = self.options.few_shot_weight
        fused = (1.0 - w) * zero_shot + w * few_shot
        image_scores = (1.0 - w) * image_prob + w * few_shot.amax(dim=-1)
        return WinCLIPOutput(
            image_scores, self._to_pixels(fused), self._to_pixels(zero_shot), self._to_pixels(few_shot)
        )

    def forward(self, images: torch.Tensor) -> WinCLIPOutput:
        """Score normalised images (B, 3, S, S); with ``tiling`` also (B, 3, H, W), min(H, W) = S."""
        return self.score(self.encode(images))

    def feature_fingerprint(self) -> str:
        """Hex key of everything the image features depend on: the backbone, its weights, the preprocessing and
        every ``feature`` option of :class:`~winclip_lit.model.options.WinCLIPOptions`."""
        if self._fingerprint is None:
            digest = hashlib.blake2b(digest_size=16)
            for tensor in self.encoder.visual.state_dict().values():
                digest.update(tensor.detach().to("cpu").contiguous().view(torch.uint8).numpy().tobytes())
            spec = {
                "version": FEATURE_VERSION,
                "model": self.model_name,
                "transform": repr(self.transform),
                **self.options.values(FEATURE),
            }
            digest.update(json.dumps(spec, sort_keys=True).encode())
            self._fingerprint = digest.hexdigest()
        return self._fingerprint

    def _load_from_state_dict(self, state_dict: Any, prefix: str, *args: Any) -> None:
        """Loading may replace the image tower's weights: the feature fingerprint is computed afresh."""
        self._fingerprint = None
        super()._load_from_state_dict(state_dict, prefix, *args)

    def _check_loaded_category(self, state: CategoryState, incompatible: Any) -> None:
        """After ``load_state_dict``: refuse a memory built with other image features, and use this model's
        prompts when the saved text embeddings come from other sentences (so score options apply)."""
        if state.category is None:
            return
        if state.feature_fingerprint != self.feature_fingerprint():
            self.clear()
            raise IncompatibleStateError(
                "checkpoint state was built with another backbone, weights, preprocessing, windows or precision; "
                "rebuild it (`winclip-lit train`) with this model's configuration"
            )
        saved = state.prompts or {}
        saved = {k: list(v) if isinstance(v, (list, tuple)) else v for k, v in saved.items()}
        if saved != self._prompt_record(*self.prompts(state.category)):
            self.set_class_name(state.category)
