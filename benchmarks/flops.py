"""FLOP accounting of WinCLIP's image side and the machine's measured matmul rate (the FLOP floor)."""

from __future__ import annotations

import time

import torch

from winclip_lit import WinCLIP


def block_flops(
    tokens: int, seq_len: int, width: int, mlp_ratio: float = 4.0, query_rows: int | None = None
) -> float:
    """FLOPs (multiply-add = 2) of one pre-norm transformer block on ``tokens`` tokens in sequences of seq_len.

    With ``query_rows`` only that many rows per sequence are computed as queries/outputs (keys and values
    still use every token), as in a class-token-only last block.
    """
    sequences = tokens / seq_len
    rows = tokens if query_rows is None else sequences * query_rows
    hidden = mlp_ratio * width
    kv = 2 * tokens * width * 2 * width
    q_out = 2 * rows * width * 2 * width
    attention = 2 * 2 * rows * seq_len * width
    mlp = 2 * rows * width * hidden * 2
    return kv + q_out + attention + mlp


def winclip_image_flops(model: WinCLIP) -> dict[str, float]:
    """FLOPs per image: the full forward, the windows of every scale, and a plain ``encode_image``."""
    visual = model.clip.visual
    width = visual.conv1.out_channels
    layers = len(visual.transformer.resblocks)
    patch = visual.conv1.kernel_size[0] * visual.conv1.kernel_size[1] * 3
    n_patches = model.encoder.num_patches
    full_len = n_patches + 1
    embed = 2 * n_patches * patch * width
    full = embed + layers * block_flops(full_len, full_len, width)
    windows = 0.0
    for size in model.scales:
        seq = model.encoder.window_sequences(size)
        n_win, seq_len = seq.shape
        tokens = n_win * seq_len
        windows += (layers - 1) * block_flops(tokens, seq_len, width)
        windows += block_flops(tokens, seq_len, width, query_rows=1)
    return {"plain": full, "full": full, "windows": windows, "total": full + windows}


def matmul_rate(
    device: str = "cpu", dtype: torch.dtype = torch.float32, size: tuple[int, int, int] | None = None
) -> float:
    """Best measured FLOP/s of a large matmul shaped like the ViT's MLP (tokens x width @ width x 4 width)."""
    m, k, n = size or ((8192, 896, 3584) if device == "cpu" else (16384, 4096, 4096))
    a = torch.randn(m, k, device=device, dtype=dtype)
    b = torch.randn(k, n, device=device, dtype=dtype)
    best = float("inf")
    for _ in range(5):
        if device != "cpu":
            torch.cuda.synchronize()
        start = time.perf_counter()
        a @ b
        if device != "cpu":
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return 2 * m * k * n / best
