"""Worker of the two-process gloo test; imports nothing heavier than the metrics themselves."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from metrics_data import blob_data

from winclip_lit.metrics import AUPRO, AnomalyMetrics

N = 9
PADDED = [*range(N), 0]  # DistributedSampler-style padding to an even split (shuffle=False)
UNEVEN = {0: list(range(6)), 1: list(range(6, N))}
# Exact pixel metrics capped at 40 kB (10 B per pixel, counted over 2 ranks: 2,000 pixels per rank):
# with the uneven split rank 0 (6 maps of 20x20) switches to binned at its third batch and rank 1
# (3 maps) stays exact; with the padded split (5 maps each) no rank switches.
CAP_GB = 40_000 / 1e9


def make_data() -> tuple[torch.Tensor, ...]:
    """Image scores, labels, maps, masks and sample ids of N samples."""
    maps, masks = blob_data(np.random.default_rng(2), n=N, size=20, decimals=2)
    maps, masks = torch.from_numpy(maps), torch.from_numpy(masks)
    return maps.amax(dim=(1, 2)), masks.amax(dim=(1, 2)), maps, masks, torch.arange(N)


def evaluate(shard: list[int]) -> dict[str, dict[str, float]]:
    """Runs every scenario on one shard of sample indices, in batches of 2."""
    data = make_data()
    results = {}
    for mode in ("exact", "binned"):
        for with_ids in (True, False):
            metrics = AnomalyMetrics(mode=mode)
            for i in range(0, len(shard), 2):
                rows = torch.tensor(shard[i : i + 2])
                ids = data[4][rows] if with_ids else None
                metrics.update(*(x[rows] for x in data[:4]), sample_ids=ids)
            results[f"{mode}_ids{with_ids}"] = metrics.compute()
        aupro = AUPRO(mode=mode)
        for i in range(0, len(shard), 2):
            aupro.update(data[2][shard[i : i + 2]], data[3][shard[i : i + 2]])
        results[f"{mode}_aupro"] = {"aupro": aupro.compute().item()}
    capped = AnomalyMetrics(mode="exact", max_exact_gb=CAP_GB)
    for i in range(0, len(shard), 2):
        rows = torch.tensor(shard[i : i + 2])
        capped.update(*(x[rows] for x in data[:4]), sample_ids=data[4][rows])
    results["capped"] = {**capped.compute(), "binned": float(capped.pixel_mode == "binned")}
    return results


def worker(rank: int, port: int, out: str) -> None:
    """Joins a 2-process gloo group and saves this rank's results for the padded and uneven splits."""
    torch.set_num_threads(1)  # forked child: stay out of the parent's OpenMP pool (as DataLoader workers do)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=2)
    try:
        results = {"padded": evaluate(PADDED[rank::2]), "uneven": evaluate(UNEVEN[rank])}
        torch.save(results, Path(out) / f"rank{rank}.pt")
    finally:
        dist.destroy_process_group()


def free_port() -> int:
    """A free TCP port on the loopback interface for the gloo rendezvous."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
