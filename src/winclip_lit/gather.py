"""Objects of every rank of a distributed run, in rank order (one process: the object itself)."""

from __future__ import annotations

from typing import Any


def gather_from_ranks(obj: Any, world_size: int) -> list[Any]:
    """Every rank's ``obj`` (rank order); ``[obj]`` when the run has one process.

    A collective call under DDP: every rank must call it.
    """
    if world_size == 1:
        return [obj]
    import torch.distributed

    gathered: list[Any] = [None] * world_size
    torch.distributed.all_gather_object(gathered, obj)
    return gathered
