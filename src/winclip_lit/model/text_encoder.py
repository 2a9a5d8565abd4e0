"""CLIP text encoding cut to the longest sentence of a batch: exact for causal open_clip text towers.

WinCLIP's compositional prompt ensemble (arXiv 2303.14814, section 4.2) encodes 242 sentences per
object (154 normal, 88 anomalous); CLIP pads each to its 77-token context although the longest has
about 17 tokens. Under the causal attention mask the output at position ``p`` depends on tokens
``0..p`` only, and the text embedding is read at one position per sentence (the end-of-text token for
``argmax`` / ``eos`` pooling). Dropping every position after the last such position of the batch
therefore changes no embedding, and costs about ``longest / 77`` of the full encoding.

:class:`TextEncoder` does this for the two open_clip text towers it can check, and otherwise calls the
model's own ``encode_text``:

- ``CLIP`` with its built-in text transformer (``model.transformer``, ``model.attn_mask``, ...);
- ``CustomTextCLIP`` whose ``model.text`` is an open_clip ``TextTransformer``.

Anything else (Hugging Face text towers, CoCa's appended class token, bidirectional or padding masks,
``last`` / ``none`` pooling, which read the padded end, subclasses that override ``encode_text``) runs at
full length; :attr:`TextEncoder.fallback_reason` says why.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

TRUNCATED_POOL_TYPES = ("argmax", "eos", "first")
"""Pool types that read one position at or before the end-of-text token (open_clip ``text_global_pool``)."""


@dataclass(frozen=True)
class _CausalTower:
    """The module holding a causal text transformer's parts, and how its output is pooled."""

    owner: nn.Module
    pool_type: str
    eos_id: int | None


def _is_causal_mask(mask: torch.Tensor | None, length: int) -> bool:
    """Whether ``mask`` is the additive (length, length) mask with -inf strictly above the diagonal, 0 elsewhere."""
    if (
        not isinstance(mask, torch.Tensor)
        or mask.dtype == torch.bool
        or tuple(mask.shape) != (length, length)
    ):
        return False
    upper = torch.ones(length, length, dtype=torch.bool, device=mask.device).triu(1)
    return bool(torch.isneginf(mask[upper]).all()) and bool((mask[~upper] == 0).all())


def _inspect(clip_model: nn.Module) -> tuple[_CausalTower | None, str]:
    """The causal tower of ``clip_model`` that :class:`TextEncoder` can truncate, or None and the reason."""
    from open_clip.model import CLIP, CustomTextCLIP
    from open_clip.transformer import (
        CustomResidualAttentionBlock,
        ResidualAttentionBlock,
        TextTransformer,
        Transformer,
    )

    kind = type(clip_model)
    encode_text = getattr(kind, "encode_text", None)
    if encode_text is CLIP.encode_text:
        owner = clip_model
        pool_type = getattr(clip_model, "text_pool_type", None)
        eos_id = getattr(clip_model, "text_eos_id", None)
    elif encode_text is CustomTextCLIP.encode_text:
        owner = getattr(clip_model, "text", None)
        if not isinstance(owner, TextTransformer):
            return None, f"text tower {type(owner).__name__} is not an open_clip TextTransformer"
        if (
            type(owner).forward is not TextTransformer.forward
            or type(owner)._embeds is not TextTransformer._embeds
        ):
            return None, f"{type(owner).__name__} overrides TextTransformer.forward"
        if owner.cls_emb is not None:
            return None, "the text tower appends a class token (CoCa)"
        if owner.output_tokens or owner.use_pad_mask:
            return None, "the text tower returns tokens or masks padding"
        pool_type, eos_id = owner.pool_type, owner.eos_id
    else:
        return None, f"{kind.__name__} has its own encode_text"

    transformer = getattr(owner, "transformer", None)
    if type(transformer) is not Transformer:
        return None, f"text transformer {type(transformer).__name__} is not open_clip's Transformer"
    blocks = {type(block) for block in transformer.resblocks}
    if not blocks <= {ResidualAttentionBlock, CustomResidualAttentionBlock}:
        return None, f"text blocks {sorted(b.__name__ for b in blocks)} are not open_clip's residual blocks"
    if pool_type not in TRUNCATED_POOL_TYPES:
        return None, f"pool type {pool_type!r} reads positions after the end-of-text token"
    if pool_type == "eos" and eos_id is None:
        return None, "eos pooling without an eos token id"
    context = owner.positional_embedding.shape[0]
    if not _is_causal_mask(getattr(owner, "attn_mask", None), context):
        return None, "the attention mask is not causal"
    return _CausalTower(owner, pool_type, eos_id), ""


class TextEncoder:
    """``clip_model.encode_text`` computed only up to the longest sentence of each batch where exact.

    Args:
        clip_model: An open_clip model (``CLIP``, ``CustomTextCLIP``, or any other with ``encode_text``).

    Attributes:
        fallback_reason: Why every batch runs at full length ("" when batches are truncated).

    Examples:
        >>> from winclip_lit.model import load_backbone
        >>> backbone = load_backbone("winclip-tiny-vit", None)
        >>> encoder = TextEncoder(backbone.model)
        >>> tokens = backbone.tokenizer(["a photo of a bottle.", "a bottle."])
        >>> encoder.truncates, encoder.sequence_length(tokens)
        (True, 8)
        >>> encoder(tokens).shape
        torch.Size([2, 64])
    """

    def __init__(self, clip_model: nn.Module) -> None:
        self.clip = clip_model
        self._tower, self.fallback_reason = _inspect(clip_model)

    @property
    def truncates(self) -> bool:
        """Whether batches are encoded only up to their longest sentence."""
        return self._tower is not None

    def _fits(self, tokens: torch.Tensor) -> bool:
        tower = self._tower
        return (
            tower is not None
            and tokens.ndim == 2
            and tokens.shape[1] == tower.owner.positional_embedding.shape[0]
            and tokens.shape[0] > 0
        )

    def pooled_positions(self, tokens: torch.Tensor) -> torch.Tensor:
        """(N,) position whose output is each sentence's embedding, as open_clip's ``text_global_pool`` picks it."""
        tower = self._tower
        if tower is None:
            raise RuntimeError(f"no truncation for this text tower: {self.fallback_reason}")
        if tower.pool_type == "argmax":
            return tokens.argmax(dim=-1)
        if tower.pool_type == "eos":
            return (tokens == tower.eos_id).int().argmax(dim=-1)
        return torch.zeros(tokens.shape[0], dtype=torch.long, device=tokens.device)

    def sequence_length(self, tokens: torch.Tensor) -> int:
        """Tokens per sentence that a batch is encoded with (the full context when not truncated)."""
        if not self._fits(tokens):
            return int(tokens.shape[-1])
        return int(self.pooled_positions(tokens).max()) + 1

    @torch.no_grad()
    def __call__(self, tokens: torch.Tensor) -> torch.Tensor:
        """Text embeddings (N, D) of tokenised sentences (N, context), equal to ``clip_model.encode_text``."""
        if not self._fits(tokens):
            return self.clip.encode_text(tokens)
        owner = self._tower.owner
        positions = self.pooled_positions(tokens)
        length = int(positions.max()) + 1
        cast_dtype = owner.transformer.get_cast_dtype()
        x = owner.token_embedding(tokens[:, :length]).to(cast_dtype)
        x = x + owner.positional_embedding[:length].to(cast_dtype)
        x = owner.transformer(x, attn_mask=owner.attn_mask[:length, :length])
        x = owner.ln_final(x)
        x = x[torch.arange(x.shape[0], device=x.device), positions]
        projection = owner.text_projection
        if projection is None:
            return x
        return projection(x) if isinstance(projection, nn.Linear) else x @ projection
