"""Building open_clip backbones: pretrained tags, HF hub, local checkpoints, and a tiny offline test model."""

from __future__ import annotations

import contextlib
import difflib
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import open_clip
import torch
from torch import nn

from winclip_lit.messages import error_chain, one_line
from winclip_lit.model.errors import UnsupportedBackboneError, WeightsUnavailableError
from winclip_lit.model.options import DEFAULT_MODEL_NAME, DEFAULT_PRETRAINED
from winclip_lit.model.preprocess import OPENAI_MEAN, OPENAI_STD

TINY_MODEL_NAME = "winclip-tiny-vit"
"""A 2-layer, 64-wide, 64 px ViT/8 CLIP registered with open_clip; random weights, no download (tests, smoke runs)."""


AUTO_PRETRAINED = "auto"
"""``pretrained`` default of :func:`load_backbone`: the paper's tag for the paper's model, none for a model
without published weights (the tiny test ViT), else an error listing the model's tags."""

_PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")
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


def resolve_pretrained(model_name: str, pretrained: str | None) -> str | None:
    """The weights :data:`AUTO_PRETRAINED` stands for (other values are returned as they are).

    Raises:
        WeightsUnavailableError: ``auto`` for a model that has several tags but is not the paper's.
    """
    if pretrained != AUTO_PRETRAINED:
        return pretrained
    if model_name == DEFAULT_MODEL_NAME:
        return DEFAULT_PRETRAINED
    tags = [] if model_name.startswith(_SCHEMAS) else open_clip.list_pretrained_tags_by_model(model_name)
    if not tags:
        return None
    raise WeightsUnavailableError(
        f"{model_name} has several pretrained weights; choose one: {', '.join(tags)} (or None for random "
        "weights, or a local open_clip weights file)"
    )


def hub_reachable(timeout: float = 3.0) -> bool:
    """Whether the Hugging Face hub answers a TCP connection within ``timeout`` seconds.

    With a proxy configured a direct connection proves nothing, so the hub is assumed reachable.
    """
    if any(os.environ.get(name) for name in _PROXY_VARIABLES):
        return True
    from urllib.parse import urlparse

    from huggingface_hub import constants

    endpoint = urlparse(constants.ENDPOINT)
    host = endpoint.hostname or "huggingface.co"
    port = endpoint.port or (80 if endpoint.scheme == "http" else 443)
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError:
        return False
    return True


@contextlib.contextmanager
def offline_unless_reachable(pretrained: str | None) -> Iterator[bool]:
    """Use only cached hub files while a tag's weights would be downloaded and the hub cannot be reached.

    Without this, an offline machine spends about 50 s in the hub client's retries before failing; in
    offline mode a cached file loads and a missing one fails at once. Yields whether offline mode was forced.
    """
    from huggingface_hub import constants

    if not pretrained or os.path.isfile(pretrained) or constants.HF_HUB_OFFLINE or hub_reachable():
        yield False
        return
    constants.HF_HUB_OFFLINE = True  # read at call time by huggingface_hub (what HF_HUB_OFFLINE=1 sets)
    try:
        yield True
    finally:
        constants.HF_HUB_OFFLINE = False


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
        reason = f"open_clip weights file '{pretrained}' does not exist"
        raise WeightsUnavailableError(f"{reason}; check the path.", reason)
    known = f"known tags: {', '.join(tags)}" if tags else "it has no published weights (use None)"
    reason = f"unknown pretrained tag '{pretrained}' for {model_name}; {known}"
    raise WeightsUnavailableError(f"{reason} (or pass a local open_clip weights file).", reason)


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
    # open_clip wraps download errors in a RuntimeError
    if any(isinstance(e, tuple(kinds)) for e in error_chain(error)):
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


def load_backbone(
    model_name: str = DEFAULT_MODEL_NAME,
    pretrained: str | None = AUTO_PRETRAINED,
    cache_dir: str | None = None,
    device: str | torch.device = "cpu",
) -> Backbone:
    """Create an open_clip CLIP model in eval mode, with its tokenizer and normalisation.

    Args:
        model_name: open_clip model name (``ViT-B-16-plus-240``), ``hf-hub:org/repo``, ``local-dir:/path``,
            or :data:`TINY_MODEL_NAME`.
        pretrained: open_clip pretrained tag (``laion400m_e31``), a local open_clip weights file (not a
            ``winclip-lit train`` checkpoint), None for random weights, or ``auto``
            (:func:`resolve_pretrained`: the paper's tag for the paper's model, none for the tiny test ViT).
        cache_dir: Where open_clip caches downloaded weights (default: the Hugging Face hub cache).
        device: Device to place the model on.

    Raises:
        UnsupportedBackboneError: Unknown model name.
        WeightsUnavailableError: Unknown tag, missing file, or weights that cannot be downloaded.
    """
    register_model_configs()
    _check_model_name(model_name)
    pretrained = resolve_pretrained(model_name, pretrained)
    if pretrained:
        _check_pretrained(model_name, str(pretrained))
    offline = False
    try:
        with (
            offline_unless_reachable(pretrained) as offline,
            skipped_init() if pretrained else contextlib.nullcontext(),
        ):
            model = open_clip.create_model(
                model_name, pretrained=pretrained or None, device=device, cache_dir=cache_dir
            )
    except Exception as error:
        if not is_weights_problem(error, pretrained):
            raise
        cache = cache_dir or os.environ.get("HF_HUB_CACHE") or "~/.cache/huggingface/hub"
        reason = (
            f"No network (the model hub cannot be reached) and weights '{pretrained}' for {model_name} "
            f"are not in the cache ({cache})"
            if offline
            else f"Could not load weights '{pretrained}' for {model_name}: {one_line(error, limit=300)}"
        )
        raise WeightsUnavailableError(
            f"{reason} -- on a machine without network, download them once elsewhere into the cache "
            f"({cache}) or pass a local open_clip weights file as pretrained=/path/to/open_clip_model.bin",
            reason,
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
