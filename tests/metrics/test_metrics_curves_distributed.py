"""Two CPU processes with gloo: curves() gathers like compute(), with or without compute() first."""

import pytest
import torch
import torch.multiprocessing as mp
from metrics_curves_ddp_worker import curves_of, worker
from metrics_ddp_worker import N, free_port


@pytest.fixture(scope="module")
def ranks(tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    out = tmp_path_factory.mktemp("ddp_curves")
    mp.start_processes(worker, args=(free_port(), str(out)), nprocs=2, join=True, start_method="fork")
    return [torch.load(out / f"rank{r}.pt") for r in range(2)]


def test_distributed_curves_equal_single_process(ranks: list[dict]) -> None:
    assert ranks[0] == ranks[1]
    for (split, mode, first), curves in ranks[0].items():
        single = curves_of(list(range(N)), mode, compute_first=False)
        assert list(curves) == list(single), (split, mode, first)
        for key, (x, y) in curves.items():
            assert x == pytest.approx(single[key][0], abs=1e-12), (split, mode, first, key)
            assert y == pytest.approx(single[key][1], abs=1e-12), (split, mode, first, key)
