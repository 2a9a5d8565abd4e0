"""Image, window and patch features from an open_clip ViT by maskable inference (arXiv 2303.14814;
docs/algorithm.md 4).

The token sequence after patch embedding + class token + positional embedding is computed once per image.
A window's embedding is the class token of the short sequence ``[cls] + the window's patch tokens`` run
through ``ln_pre``, every block, ``ln_post`` and ``proj``: one gather builds the sequences of all windows of
all images, which then go through the transformer in chunks bounded by ``max_tokens`` (peak memory).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from open_clip.transformer import ResidualAttentionBlock, VisionTransformer
from torch import nn

from winclip_lit.model.errors import UnsupportedBackboneError
from winclip_lit.model.features import ImageFeatures
from winclip_lit.model.options import PATCH_FEATURES, InvalidOptionError
from winclip_lit.model.windows import window_indices


def check_vision_tower(visual: nn.Module) -> None:
    """Raise :class:`UnsupportedBackboneError` unless ``visual`` is an open_clip ViT with class-token pooling."""
    if not isinstance(visual, VisionTransformer):
        raise UnsupportedBackboneError(
            f"WinCLIP needs an open_clip VisionTransformer image tower, got {type(visual).__name__}; "
            "choose a ViT model (e.g. ViT-B-16-plus-240), not a ResNet, ConvNeXt or timm tower"
        )
    if getattr(visual, "attn_pool", None) is not None or getattr(visual, "pool_type", "tok") != "tok":
        raise UnsupportedBackboneError(
            "WinCLIP needs class-token pooling; this ViT pools with "
            f"{'an attentional pooler' if getattr(visual, 'attn_pool', None) is not None else visual.pool_type}"
        )


class _BlockRunner:
    """Runs one open_clip transformer block on batch-first (N, L, C) tokens.

    Standard ``ResidualAttentionBlock``s run through fused scaled-dot-product attention, and can compute the
    class token alone (all tokens as keys/values) when that is all the caller needs. Other block types run
    through their own ``forward`` with the layout the transformer expects.
    """

    def __init__(self, block: nn.Module, batch_first: bool) -> None:
        self.block = block
        self.batch_first = batch_first
        attn = getattr(block, "attn", None)
        self.fused = (
            isinstance(block, ResidualAttentionBlock)
            and isinstance(attn, nn.MultiheadAttention)
            and attn._qkv_same_embed_dim
            and attn.in_proj_bias is not None
            and not hasattr(block, "ln_1_kv")
        )

    def __call__(self, x: torch.Tensor, cls_only: bool = False) -> torch.Tensor:
        if not self.fused:
            out = self._module_forward(x)
            return out[:, :1] if cls_only else out
        blk = self.block
        h = blk.ln_1(x)
        query_rows = 1 if cls_only else x.shape[1]
        attn_out = self._attention(h, query_rows)
        x = (x[:, :1] if cls_only else x) + blk.ls_1(attn_out)
        return x + blk.ls_2(blk.mlp(blk.ln_2(x)))

    def _attention(self, h: torch.Tensor, query_rows: int) -> torch.Tensor:
        attn: nn.MultiheadAttention = self.block.attn
        n, length, width = h.shape
        heads = attn.num_heads
        weight, bias = attn.in_proj_weight, attn.in_proj_bias
        if query_rows == length:
            qkv = F.linear(h, weight, bias).view(n, length, 3, heads, width // heads)
            q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)
        else:
            q = F.linear(h[:, :query_rows], weight[:width], bias[:width])
            q = q.view(n, query_rows, heads, width // heads).transpose(1, 2)
            kv = F.linear(h, weight[width:], bias[width:]).view(n, length, 2, heads, width // heads)
            k, v = kv.permute(2, 0, 3, 1, 4).unbind(0)
        out = F.scaled_dot_product_attention(q, k, v)
        out = out.transpose(1, 2).reshape(n, query_rows, width)
        return F.linear(out, attn.out_proj.weight, attn.out_proj.bias)

    def _module_forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.batch_first:
            return self.block(x)
        return self.block(x.transpose(0, 1)).transpose(0, 1)


class WindowEncoder(nn.Module):
    """Computes :class:`ImageFeatures` (image, window and patch embeddings) with one open_clip ViT.

    Args:
        visual: The open_clip ``VisionTransformer`` (``clip_model.visual``).
        scales: Window sizes in patch units.
        stride: Window stride in patch units.
        patch_features: One of :data:`~winclip_lit.model.options.PATCH_FEATURES` (default ``ln_post``,
            docs/algorithm.md 4).
        max_tokens: Upper bound on tokens per transformer chunk for the window sequences (peak memory).
    """

    def __init__(
        self,
        visual: nn.Module,
        scales: Sequence[int] = (2, 3),
        stride: int = 1,
        patch_features: str = "ln_post",
        max_tokens: int = 32768,
    ) -> None:
        super().__init__()
        check_vision_tower(visual)
        if patch_features not in PATCH_FEATURES:
            raise ValueError(f"patch_features must be one of {PATCH_FEATURES}, got {patch_features!r}")
        self.visual = visual
        self.grid = tuple(int(g) for g in visual.grid_size)
        self.scales = tuple(int(s) for s in scales)
        self.stride = int(stride)
        self.patch_features = patch_features
        self.max_tokens = int(max_tokens)
        if self.max_tokens < 1:
            raise InvalidOptionError("max_tokens", max_tokens, "an integer >= 1")
        too_large = [s for s in self.scales if s > min(self.grid)]
        if too_large:
            raise InvalidOptionError(
                "scales",
                list(self.scales),
                f"window size {too_large[0]} is larger than this backbone's patch grid "
                f"({self.grid[0]}x{self.grid[1]}); use sizes up to {min(self.grid)}",
            )
        batch_first = getattr(visual.transformer, "batch_first", False)
        self._blocks = [_BlockRunner(b, batch_first) for b in visual.transformer.resblocks]
        for size in self.scales:
            # Sequence positions of [cls] + window patches in the full token sequence (patch j -> 1 + j).
            idx = window_indices(self.grid, size, self.stride) + 1
            seq = torch.cat([torch.zeros(idx.shape[0], 1, dtype=torch.long), idx], dim=1)
            self.register_buffer(f"_seq_{size}", seq, persistent=False)

    @property
    def num_patches(self) -> int:
        """Patches in the grid (g*g)."""
        return self.grid[0] * self.grid[1]

    def window_sequences(self, size: int) -> torch.Tensor:
        """(n_windows, 1 + size**2) positions of ``[cls] + window tokens`` in the full token sequence."""
        return getattr(self, f"_seq_{size}")

    def token_embeddings(self, images: torch.Tensor) -> torch.Tensor:
        """Patch embedding + class token + positional embedding, before ``ln_pre``: (B, 1 + g*g, width)."""
        visual = self.visual
        x = visual.conv1(images)
        x = x.flatten(2).transpose(1, 2)
        cls = visual.class_embedding.to(x.dtype).expand(x.shape[0], 1, -1)
        x = torch.cat([cls, x], dim=1)
        return x + visual.positional_embedding.to(x.dtype)

    def run_blocks(self, x: torch.Tensor, cls_only: bool = False) -> torch.Tensor:
        """``ln_pre`` and every transformer block; with ``cls_only`` the last block yields the class token only."""
        x = self.visual.ln_pre(x)
        last = len(self._blocks) - 1
        for i, block in enumerate(self._blocks):
            x = block(x, cls_only=cls_only and i == last)
        return x

    def project(self, tokens: torch.Tensor) -> torch.Tensor:
        """``ln_post`` then ``proj`` (when the model has one)."""
        tokens = self.visual.ln_post(tokens)
        proj = self.visual.proj
        return tokens @ proj if proj is not None else tokens

    def patch_tokens(self, tokens: torch.Tensor) -> torch.Tensor:
        """Few-shot patch features of final-layer patch tokens, as ``patch_features`` asks (not normalised)."""
        if self.patch_features == "pre_ln_post":
            return tokens
        if self.patch_features == "projected":
            return self.project(tokens)
        return self.visual.ln_post(tokens)

    def encode_windows(self, tokens: torch.Tensor, size: int, chunked: bool = True) -> torch.Tensor:
        """Window embeddings of one scale for all images: (B, n_windows, D), not normalised.

        Args:
            tokens: (B, 1 + g*g, width) from :meth:`token_embeddings`.
            size: Window size in patch units.
            chunked: Run the sequences in chunks of at most ``max_tokens`` tokens (bounded memory); without,
                all windows of all images form one batch (a graph with no batch-dependent loop, for export).
        """
        seq = self.window_sequences(size)
        n_images, n_windows = tokens.shape[0], seq.shape[0]
        if not chunked:
            sequences = tokens[:, seq].flatten(0, 1)  # one gather: (B * n_windows, L, width)
            embeddings = self.project(self.run_blocks(sequences, cls_only=True)[:, 0])
            return embeddings.unflatten(0, (n_images, n_windows))
        per_chunk = max(1, self.max_tokens // seq.shape[1])
        flat_seq = seq.repeat(n_images, 1)  # (B * n_windows, L) positions
        flat_img = torch.arange(n_images, device=tokens.device).repeat_interleave(n_windows)
        out = []
        for start in range(0, flat_seq.shape[0], per_chunk):
            rows = slice(start, start + per_chunk)
            chunk = tokens[flat_img[rows, None], flat_seq[rows]]  # one gather: (n, L, width)
            out.append(self.project(self.run_blocks(chunk, cls_only=True)[:, 0]))
        return torch.cat(out).view(n_images, n_windows, -1)

    def forward(self, images: torch.Tensor, chunked: bool = True) -> ImageFeatures:
        """Encode images (B, 3, H, W), normalised, into L2-normalised :class:`ImageFeatures`.

        ``chunked=False`` runs each scale's windows as one batch (see :meth:`encode_windows`).
        """
        tokens = self.token_embeddings(images)
        full = self.run_blocks(tokens)
        image = self.project(full[:, 0])
        patches = self.patch_tokens(full[:, 1:])
        windows = tuple(F.normalize(self.encode_windows(tokens, s, chunked), dim=-1) for s in self.scales)
        return ImageFeatures(
            image=F.normalize(image, dim=-1),
            windows=windows,
            patches=F.normalize(patches, dim=-1),
        )
