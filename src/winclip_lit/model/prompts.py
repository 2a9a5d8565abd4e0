"""Compositional prompt ensemble (arXiv 2303.14814; docs/algorithm.md 2): the prompt lists are data, so other sets can be configured."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import torch
import torch.nn.functional as F

from winclip_lit.model.prompt_lists import (
    ANOMALIB_TEMPLATES,
    ANOMALOUS_STATES,
    CLASS_NAME_MAP,
    NORMAL_STATES,
    TEMPLATES,
    TEXT_AVERAGES,
)

__all__ = [
    "ANOMALIB_TEMPLATES",
    "ANOMALOUS_STATES",
    "CLASS_NAME_MAP",
    "NORMAL_STATES",
    "TEMPLATES",
    "TEXT_AVERAGES",
    "class_name_for",
    "compose_prompts",
    "encode_prompt_set",
]


def class_name_for(
    category: str,
    mapping: Mapping[str, str] | None = None,
    fixed: str | None = None,
    raw: bool = False,
) -> str:
    """Object name used in the prompts for a category folder name.

    Args:
        category: Category folder name, e.g. ``metal_nut``.
        mapping: Explicit names per category (default: :data:`CLASS_NAME_MAP`); ``{}`` disables it.
        fixed: A name used for every category (e.g. ``object``), overriding everything else.
        raw: Use the folder name verbatim (``metal_nut``, ``pcb1``), as anomalib and Accurate-WinCLIP do;
            ``mapping`` is then not used.

    Returns:
        ``fixed`` if given, else (``raw``) the folder name, else ``mapping[category]``, else the category
        with ``_`` replaced by a space.

    Examples:
        >>> class_name_for("metal_nut"), class_name_for("pcb1"), class_name_for("pcb1", {})
        ('metal nut', 'printed circuit board', 'pcb1')
        >>> class_name_for("metal_nut", raw=True)
        'metal_nut'
    """
    if fixed:
        return fixed
    if raw:
        return category
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
        average: ``normalized`` (L2-normalise each sentence embedding before averaging, the paper preset)
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
