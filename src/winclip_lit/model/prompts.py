"""Compositional prompt ensemble (spec section 2): the prompt lists are data, so other sets can be configured."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import torch
import torch.nn.functional as F

NORMAL_STATES: tuple[str, ...] = (
    "{}",
    "flawless {}",
    "perfect {}",
    "unblemished {}",
    "{} without flaw",
    "{} without defect",
    "{} without damage",
)

ANOMALOUS_STATES: tuple[str, ...] = (
    "damaged {}",
    "{} with flaw",
    "{} with defect",
    "{} with damage",
)

TEMPLATES: tuple[str, ...] = (
    "a cropped photo of the {}.",
    "a cropped photo of a {}.",
    "a close-up photo of a {}.",
    "a close-up photo of the {}.",
    "a bright photo of a {}.",
    "a bright photo of the {}.",
    "a dark photo of the {}.",
    "a dark photo of a {}.",
    "a jpeg corrupted photo of a {}.",
    "a jpeg corrupted photo of the {}.",
    "a blurry photo of the {}.",
    "a blurry photo of a {}.",
    "a photo of a {}.",
    "a photo of the {}.",
    "a photo of a small {}.",
    "a photo of the small {}.",
    "a photo of a large {}.",
    "a photo of the large {}.",
    "a photo of the {} for visual inspection.",
    "a photo of a {} for visual inspection.",
    "a photo of the {} for anomaly detection.",
    "a photo of a {} for anomaly detection.",
)

# Category folder names whose default rule ("_" -> " ") does not give a natural object name (VisA).
CLASS_NAME_MAP: dict[str, str] = {
    "pcb1": "printed circuit board",
    "pcb2": "printed circuit board",
    "pcb3": "printed circuit board",
    "pcb4": "printed circuit board",
    "macaroni1": "macaroni",
    "macaroni2": "macaroni",
    "chewinggum": "chewing gum",
}

TEXT_AVERAGES = ("normalized", "raw")


def class_name_for(category: str, mapping: Mapping[str, str] | None = None, fixed: str | None = None) -> str:
    """Object name used in the prompts for a category folder name.

    Args:
        category: Category folder name, e.g. ``metal_nut``.
        mapping: Explicit names per category (default: :data:`CLASS_NAME_MAP`); ``{}`` disables it.
        fixed: A name used for every category (e.g. ``object``), overriding everything else.

    Returns:
        ``fixed`` if given, else ``mapping[category]``, else the category with ``_`` replaced by a space.
    """
    if fixed:
        return fixed
    mapping = CLASS_NAME_MAP if mapping is None else mapping
    return mapping.get(category, category.replace("_", " "))


def compose_prompts(class_name: str, states: Sequence[str], templates: Sequence[str]) -> list[str]:
    """Every template applied to every state phrase of ``class_name`` (templates outer, states inner)."""
    for text in (*states, *templates):
        if text.count("{}") != 1:
            raise ValueError(f"prompt pattern {text!r} must contain exactly one '{{}}' placeholder")
    phrases = [state.format(class_name) for state in states]
    return [template.format(phrase) for template in templates for phrase in phrases]


@torch.no_grad()
def encode_prompt_set(
    encode_text: Callable[[torch.Tensor], torch.Tensor],
    tokenizer: Callable[[list[str]], torch.Tensor],
    prompts: Sequence[str],
    average: str = "normalized",
    device: torch.device | str = "cpu",
    batch_size: int = 256,
) -> torch.Tensor:
    """One L2-normalised text embedding (D,) for a set of sentences.

    Args:
        encode_text: The CLIP text encoder: ``clip_model.encode_text``, or a
            :class:`~winclip_lit.model.text_encoder.TextEncoder` (same result, encoded only up to the longest
            sentence of each batch).
        tokenizer: The matching open_clip tokenizer.
        prompts: Sentences to encode.
        average: ``normalized`` (L2-normalise each sentence embedding before averaging, the spec default)
            or ``raw`` (average raw embeddings).
        device: Device of the text tower.
        batch_size: Sentences per text-encoder call.
    """
    if average not in TEXT_AVERAGES:
        raise ValueError(f"text_average must be one of {TEXT_AVERAGES}, got {average!r}")
    if not prompts:
        raise ValueError("a prompt set is empty: give at least one state phrase and one template")
    chunks = []
    for start in range(0, len(prompts), batch_size):
        tokens = tokenizer(list(prompts[start : start + batch_size])).to(device)
        chunks.append(encode_text(tokens).float())
    embeddings = torch.cat(chunks)
    if average == "normalized":
        embeddings = F.normalize(embeddings, dim=-1)
    return F.normalize(embeddings.mean(dim=0), dim=-1)
