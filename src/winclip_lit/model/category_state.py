"""What WinCLIP holds for one category: its text embeddings and reference memory, as buffers.

The tensors are registered buffers, so ``model.to(device)`` / ``model.double()`` move and cast them with the
model, and ``state_dict()`` saves them; the category, its class name, the sentences of the text embeddings
and the feature fingerprint of the memory travel as the module's extra state. An unset tensor is a zero-size
buffer (no category yet; zero-shot: no reference memory). Loading adopts the saved shapes, so a zero-shot
state loads into a few-shot model and the other way round.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from winclip_lit.model.features import ImageFeatures

LEGACY_KEYS = ("text_embeddings", "reference", "feature_fingerprint")
"""Keys of the per-category state that ``WinCLIP.export_state()`` wrote (checkpoint formats 1 and 2)."""


class CategoryState(nn.Module):
    """Text embeddings (2, D) (row 0 normal) and the reference memory of the current category.

    Args:
        num_scales: Window scales of the model (one window-memory buffer each).

    Attributes:
        category: Category name (None before ``WinCLIP.set_class_name``).
        class_name: Object name in the prompts.
        prompts: The sentences the text embeddings come from: ``normal``, ``anomalous`` and ``text_average``.
        feature_fingerprint: ``WinCLIP.feature_fingerprint()`` of the model that built the memory.
    """

    def __init__(self, num_scales: int) -> None:
        super().__init__()
        self.num_scales = num_scales
        self.register_buffer("text_embeddings", torch.empty(0))
        self.register_buffer("reference_image", torch.empty(0))
        self.register_buffer("reference_patches", torch.empty(0))
        for index in range(num_scales):
            self.register_buffer(f"reference_windows_{index}", torch.empty(0))
        self.category: str | None = None
        self.class_name: str | None = None
        self.prompts: dict[str, Any] | None = None
        self.feature_fingerprint: str | None = None

    @property
    def reference(self) -> ImageFeatures | None:
        """The reference memory as features (k, ...) of the k references; None in zero-shot mode."""
        if self.reference_patches.numel() == 0:
            return None
        windows = tuple(getattr(self, f"reference_windows_{i}") for i in range(self.num_scales))
        return ImageFeatures(self.reference_image, windows, self.reference_patches)

    def set_reference(self, features: ImageFeatures | None) -> None:
        """Store ``features`` (cast to the buffers' dtype and device) as the memory; None empties it."""
        like = self.text_embeddings
        empty = like.new_empty(0)
        self.reference_image = empty if features is None else features.image.to(like)
        self.reference_patches = empty if features is None else features.patches.to(like)
        for index in range(self.num_scales):
            windows = empty if features is None else features.windows[index].to(like)
            setattr(self, f"reference_windows_{index}", windows)

    def get_extra_state(self) -> dict[str, Any]:
        """The category, class name, prompts and fingerprint (plain data, saved by ``state_dict``)."""
        return {
            "category": self.category,
            "class_name": self.class_name,
            "prompts": self.prompts,
            "feature_fingerprint": self.feature_fingerprint,
        }

    def set_extra_state(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`get_extra_state` saved."""
        self.category = state.get("category")
        self.class_name = state.get("class_name")
        self.prompts = state.get("prompts")
        self.feature_fingerprint = state.get("feature_fingerprint")

    def _load_from_state_dict(self, state_dict: Mapping[str, Any], prefix: str, *args: Any) -> None:
        """Load into fresh buffers of the saved shapes (a zero-shot state has empty reference buffers).

        Fresh buffers, never an in-place copy: the old ones may be shared (a text cache's tensor, a state
        handed out by ``state_dict``). A zero-shot state converted from a legacy checkpoint has no window
        buffers; they load as empty.
        """
        patches = state_dict.get(prefix + "reference_patches")
        if isinstance(patches, torch.Tensor) and patches.numel() == 0:
            empty = {prefix + f"reference_windows_{i}": patches for i in range(self.num_scales)}
            state_dict = {**empty, **state_dict}
        for name, buffer in self._buffers.items():
            saved = state_dict.get(prefix + name)
            if buffer is not None and isinstance(saved, torch.Tensor):
                self._buffers[name] = buffer.new_empty(saved.shape)
        super()._load_from_state_dict(state_dict, prefix, *args)


def is_legacy_state(state: Mapping[str, Any]) -> bool:
    """Whether ``state`` is a per-category state of the old ``export_state()`` form."""
    return all(key in state for key in LEGACY_KEYS)


def convert_legacy_state(state: Mapping[str, Any]) -> dict[str, Any]:
    """A ``CategoryState.state_dict()`` from an old ``export_state()`` dict (checkpoints 1 and 2).

    Args:
        state: ``{"category", "class_name", "text_embeddings", "prompts", "reference", "feature_fingerprint"}``
            with ``reference`` None or ``{"image", "windows", "patches"}``.
    """
    reference = state["reference"]
    empty = torch.empty(0)
    converted: dict[str, Any] = {
        "text_embeddings": state["text_embeddings"],
        "reference_image": empty if reference is None else reference["image"],
        "reference_patches": empty if reference is None else reference["patches"],
    }
    # A zero-shot legacy state does not record the number of scales: its window buffers load as empty.
    for index, tensor in enumerate([] if reference is None else reference["windows"]):
        converted[f"reference_windows_{index}"] = tensor
    converted["_extra_state"] = {
        "category": state.get("category"),
        "class_name": state.get("class_name"),
        "prompts": state.get("prompts"),
        "feature_fingerprint": state.get("feature_fingerprint"),
    }
    return converted
