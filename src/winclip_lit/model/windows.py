"""Window geometry on the patch grid and harmonic aggregation from windows to patches (arXiv 2303.14814; docs/algorithm.md 4-5)."""

from __future__ import annotations

import torch


def window_starts(length: int, size: int, stride: int) -> list[int]:
    """Start offsets of windows along one grid axis.

    A window is placed every ``stride`` patches; when the stride does not reach the last patch, one more
    window aligned to the far edge is added so that every patch is covered by at least one window.

    Args:
        length: Number of patches along the axis.
        size: Window size in patches.
        stride: Step between window starts in patches.

    Returns:
        Sorted, unique start offsets.
    """
    if size < 1 or stride < 1:
        raise ValueError(f"window size and stride must be >= 1, got size={size}, stride={stride}")
    if size > length:
        raise ValueError(f"window size {size} is larger than the patch grid ({length} patches per side)")
    starts = list(range(0, length - size + 1, stride))
    if starts[-1] != length - size:
        starts.append(length - size)
    return starts


def window_indices(grid: tuple[int, int], size: int, stride: int = 1) -> torch.Tensor:
    """Flat patch indices (row-major) of every window of one scale.

    Args:
        grid: Patch grid (rows, cols).
        size: Window side in patches.
        stride: Step between windows in patches.

    Returns:
        LongTensor (n_windows, size * size); windows ordered row-major by their top-left patch.
    """
    rows, cols = grid
    r0 = torch.tensor(window_starts(rows, size, stride))
    c0 = torch.tensor(window_starts(cols, size, stride))
    offsets = torch.arange(size)
    win_rows = (r0[:, None] + offsets[None, :])[:, None, :, None]  # (nr, 1, k, 1)
    win_cols = (c0[:, None] + offsets[None, :])[None, :, None, :]  # (1, nc, 1, k)
    flat = win_rows * cols + win_cols  # (nr, nc, k, k)
    return flat.reshape(len(r0) * len(c0), size * size)


def coverage_matrix(indices: torch.Tensor, num_patches: int) -> torch.Tensor:
    """Binary (num_patches, n_windows) matrix: entry (j, i) is 1 when window i covers patch j."""
    cover = torch.zeros(num_patches, indices.shape[0])
    cover.scatter_(0, indices.T.contiguous(), 1.0)
    return cover


def harmonic_aggregate(scores: torch.Tensor, coverage: torch.Tensor) -> torch.Tensor:
    """Harmonic mean of the window scores covering each patch: ``n / sum_i 1/p_i``.

    A patch covered by any window of score 0 gets exactly 0.

    Args:
        scores: (B, n_windows) window scores in [0, 1].
        coverage: (num_patches, n_windows) from :func:`coverage_matrix`.

    Returns:
        (B, num_patches) patch scores.
    """
    coverage = coverage.to(device=scores.device, dtype=scores.dtype)
    positive = scores > 0
    inverse = torch.where(positive, 1.0 / scores.clamp_min(torch.finfo(scores.dtype).tiny), 0.0)
    inverse_sum = inverse @ coverage.T
    zero_hits = (~positive).to(scores.dtype) @ coverage.T
    count = coverage.sum(dim=1)
    return torch.where(zero_hits > 0, torch.zeros_like(inverse_sum), count / inverse_sum)


def harmonic_mean(values: torch.Tensor, dim: int = 0) -> torch.Tensor:
    """Harmonic mean along ``dim``; exactly 0 where any value is 0."""
    positive = values > 0
    inverse = torch.where(positive, 1.0 / values.clamp_min(torch.finfo(values.dtype).tiny), 0.0)
    mean = values.shape[dim] / inverse.sum(dim=dim)
    return torch.where(positive.all(dim=dim), mean, torch.zeros_like(mean))
