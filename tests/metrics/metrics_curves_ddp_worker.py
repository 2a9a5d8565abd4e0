"""Worker of the two-process gloo curve test: curves() after compute() and as a collective call."""

from __future__ import annotations

from pathlib import Path

import torch
import torch.distributed as dist
from metrics_ddp_worker import PADDED, UNEVEN, make_data

from winclip_lit.metrics import AnomalyMetrics


def curves_of(shard: list[int], mode: str, compute_first: bool) -> dict[str, tuple[list[float], list[float]]]:
    """All curves (every vertex) of one shard of sample indices with their ids, in batches of 2."""
    data = make_data()
    metrics = AnomalyMetrics(mode=mode)
    for i in range(0, len(shard), 2):
        rows = torch.tensor(shard[i : i + 2])
        metrics.update(*(x[rows] for x in data[:4]), sample_ids=data[4][rows])
    if compute_first:
        metrics.compute()
    return {key: (c.x.tolist(), c.y.tolist()) for key, c in metrics.curves(max_points=None).items()}


def worker(rank: int, port: int, out: str) -> None:
    """Joins a 2-process gloo group and saves this rank's curves for the padded and uneven splits."""
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=2)
    try:
        results = {
            (split, mode, first): curves_of(shards[rank], mode, first)
            for split, shards in {"padded": {0: PADDED[0::2], 1: PADDED[1::2]}, "uneven": UNEVEN}.items()
            for mode in ("exact", "binned")
            for first in (True, False)
        }
        torch.save(results, Path(out) / f"rank{rank}.pt")
    finally:
        dist.destroy_process_group()
