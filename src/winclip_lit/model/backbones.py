"""Building open_clip backbones: pretrained tags, HF hub, local checkpoints, and a tiny offline test model."""

from __future__ import annotations

import contextlib
import difflib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import open_clip
import torch
from torch import nn

from winclip_lit.model.errors import UnsupportedBackboneError, WeightsUnavailableError
from winclip_lit.model.options import DEFAULT_MODEL_NAME, DEFAULT_PRETRAINED
from winclip_lit.model.preprocess import OPENAI_MEAN, OPENAI_STD

TINY_MODEL_NAME = "winclip-tiny-vit"
"""A 2-layer, 64-wide, 64 px ViT/8 CLIP registered with open_clip; random weights, no download (tests, smoke runs)."""


_CONFIG_DIR = Path(__file__).parent / "model_configs"
_SCHEMAS = ("hf-hub:", "local-dir:")


def register_model_configs() -> None:
    """Register the package's model configs (the tiny test ViT) with open_clip; idempotent."""
    if TINY_MODEL_NAME not in open_clip.list_models():
        open_clip.add_model_config(_CONFIG_DIR)


@dataclass
class Backbone:
    """An open_clip CLIP model with its tokenizer and image normalisation."""

    model: nn.Module
    tokenizer: Any
    mean: tuple[float, ...]
    std: tuple[float, ...]
    name: str
    pretrained: str | None


def patch_grid(model_name: str) -> tuple[int, int] | None:
    """The ViT patch grid (rows, cols) of a registered open_clip model config, without building it.

    Returns None for models whose config is not known locally (``hf-hub:``, ``local-dir:``, unknown).
    """
    register_model_configs()
    config = None if model_name.startswith(_SCHEMAS) else open_clip.get_model_config(model_name)
    vision = (config or {}).get("vision_cfg") or {}
    size, patch = vision.get("image_size"), vision.get("patch_size")
    if not isinstance(size, int) or not isinstance(patch, int) or vision.get("timm_model_name"):
        return None
    return size // patch, size // patch


def _check_model_name(model_name: str) -> None:
    if model_name.startswith(_SCHEMAS):
        return
    known = open_clip.list_models()
    if model_name not in known:
        close = difflib.get_close_matches(model_name, known, n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise UnsupportedBackboneError(
            f"Unknown open_clip model '{model_name}'.{hint} See open_clip.list_models() for all names."
        )


def _check_pretrained(model_name: str, pretrained: str) -> None:
    if model_name.startswith(_SCHEMAS) or os.path.isfile(pretrained):
        return
    tags = open_clip.list_pretrained_tags_by_model(model_name)
    if pretrained in tags:
        return
    looks_like_path = any(sep in pretrained for sep in ("/", "\\")) or pretrained.endswith(
        (".pt", ".pth", ".bin", ".safetensors")
    )
    if looks_like_path:
        raise WeightsUnavailableError(f"Checkpoint file '{pretrained}' does not exist; check the path.")
    raise WeightsUnavailableError(
        f"Unknown pretrained tag '{pretrained}' for {model_name}; known tags: {', '.join(tags) or 'none'} "
        "(or pass a local checkpoint path)."
    )


_INITS = (
    "uniform_",
    "normal_",
    "trunc_normal_",
    "xavier_uniform_",
    "xavier_normal_",
    "kaiming_uniform_",
    "kaiming_normal_",
    "constant_",
    "zeros_",
    "ones_",
    "orthogonal_",
)


@contextlib.contextmanager
def skipped_init() -> Iterator[None]:
    """Skip ``torch.nn.init`` while a model is built whose every weight is then loaded from a checkpoint.

    Random initialisation of ViT-B-16-plus-240 costs about 1.5 s on a 2-core CPU, only to be overwritten:
    open_clip loads pretrained weights strictly (a missing key is an error), so nothing stays uninitialised.
    """
    saved = {name: getattr(torch.nn.init, name) for name in _INITS}
    try:
        for name in _INITS:
            setattr(torch.nn.init, name, lambda tensor, *args, **kwargs: tensor)
        yield
    finally:
        for name, function in saved.items():
            setattr(torch.nn.init, name, function)


def is_weights_problem(error: BaseException, pretrained: str | None) -> bool:
    """Whether ``error`` means "these weights cannot be had" (network, cache, file) rather than a bug.

    Downloads fail with ``OSError`` (connection, missing cache entry, permissions) or the hub's HTTP
    errors; a local checkpoint that is truncated or not a checkpoint fails to unpickle or to parse. Any
    other error (an API change, out of memory) is a bug or a resource problem and keeps its traceback.
    """
    import pickle

    kinds: list[type[BaseException]] = [OSError, EOFError, pickle.UnpicklingError]
    with contextlib.suppress(ImportError):
        from huggingface_hub.errors import HfHubHTTPError

        kinds.append(HfHubHTTPError)
    with contextlib.suppress(ImportError):
        from safetensors import SafetensorError

        kinds.append(SafetensorError)
    chain, seen = [], error
    while seen is not None and len(chain) < 8:  # open_clip wraps download errors in a RuntimeError
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    if any(isinstance(e, tuple(kinds)) for e in chain):
        return True
    if isinstance(error, RuntimeError) and str(error).startswith("Failed to download"):
        return True  # open_clip's own wording for "no network and not in the cache"
    local_file = bool(pretrained) and os.path.isfile(str(pretrained))
    damaged = any(word in str(error) for word in ("zip archive", "PytorchStreamReader", "invalid load key"))
    return (
        local_file
        and isinstance(error, RuntimeError)
        and not isinstance(error, torch.OutOfMemoryError)
        and damaged
    )


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return text if len(text) <= 300 else text[:297] + "..."


def load_backbone(
    model_name: str = DEFAULT_MODEL_NAME,
    pretrained: str | None = DEFAULT_PRETRAINED,
    cache_dir: str | None = None,
    device: str | torch.device = "cpu",
) -> Backbone:
    """Create an open_clip CLIP model in eval mode, with its tokenizer and normalisation.

    Args:
        model_name: open_clip model name (``ViT-B-16-plus-240``), ``hf-hub:org/repo``, ``local-dir:/path``,
            or :data:`TINY_MODEL_NAME`.
        pretrained: open_clip pretrained tag (``laion400m_e31``), a local checkpoint file, or None for random
            weights.
        cache_dir: Where open_clip caches downloaded weights (default: the Hugging Face hub cache).
        device: Device to place the model on.

    Raises:
        UnsupportedBackboneError: Unknown model name.
        WeightsUnavailableError: Unknown tag, missing file, or weights that cannot be downloaded.
    """
    register_model_configs()
    _check_model_name(model_name)
    if pretrained:
        _check_pretrained(model_name, str(pretrained))
    try:
        with skipped_init() if pretrained else contextlib.nullcontext():
            model = open_clip.create_model(
                model_name, pretrained=pretrained or None, device=device, cache_dir=cache_dir
            )
    except Exception as error:
        if not is_weights_problem(error, pretrained):
            raise
        cache = cache_dir or os.environ.get("HF_HUB_CACHE") or "~/.cache/huggingface/hub"
        raise WeightsUnavailableError(
            f"Could not load weights '{pretrained}' for {model_name}: {_one_line(error)} -- on a machine "
            f"without network, download them once elsewhere into the cache ({cache}) or pass a local "
            "checkpoint file as pretrained=/path/to/open_clip_pytorch_model.bin"
        ) from error
    model.eval()
    model.requires_grad_(False)
    cfg = getattr(model.visual, "preprocess_cfg", None) or {}
    return Backbone(
        model=model,
        tokenizer=open_clip.get_tokenizer(model_name, cache_dir=cache_dir),
        mean=tuple(cfg.get("mean", OPENAI_MEAN)),
        std=tuple(cfg.get("std", OPENAI_STD)),
        name=model_name,
        pretrained=pretrained or None,
    )


register_model_configs()
