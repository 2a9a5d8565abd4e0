"""Two CPU processes with gloo: the distributed result equals the single-process one.

The ranks are forked rather than spawned: a spawned child re-imports torch and the package,
which takes about 20 s per process on a 2-core machine.
"""

import pytest
import torch
import torch.multiprocessing as mp
from metrics_ddp_worker import PADDED, N, evaluate, free_port, worker


@pytest.fixture(scope="module")
def ranks(tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    out = tmp_path_factory.mktemp("ddp")
    mp.start_processes(worker, args=(free_port(), str(out)), nprocs=2, join=True, start_method="fork")
    return [torch.load(out / f"rank{r}.pt") for r in range(2)]


def test_all_ranks_agree(ranks: list[dict]) -> None:
    assert ranks[0] == ranks[1]


def test_uneven_split_equals_single_process(ranks: list[dict]) -> None:
    for scenario, expected in evaluate(list(range(N))).items():
        if scenario == "capped":  # the cap counts the ranks: see the memory-cap test below
            continue
        assert ranks[0]["uneven"][scenario] == pytest.approx(expected, abs=1e-12), scenario


def test_padded_repeats_with_ids_are_counted_once(ranks: list[dict]) -> None:
    single = evaluate(list(range(N)))
    for scenario in ("exact_idsTrue", "binned_idsTrue"):
        assert ranks[0]["padded"][scenario] == pytest.approx(single[scenario], abs=1e-12), scenario


def test_padded_repeats_without_ids_are_counted_twice(ranks: list[dict]) -> None:
    padded = evaluate(PADDED)
    for scenario in ("exact_idsFalse", "binned_idsFalse", "exact_aupro", "binned_aupro"):
        assert ranks[0]["padded"][scenario] == pytest.approx(padded[scenario], abs=1e-12), scenario
    assert padded["exact_idsFalse"] != pytest.approx(evaluate(list(range(N)))["exact_idsFalse"], abs=1e-6)


def test_memory_cap_switch_on_one_rank_counts_every_sample_binned(ranks: list[dict]) -> None:
    single = evaluate(list(range(N)))
    uneven, padded = dict(ranks[0]["uneven"]["capped"]), dict(ranks[0]["padded"]["capped"])
    assert uneven.pop("binned") == 1.0 and padded.pop("binned") == 0.0
    assert uneven == pytest.approx(single["binned_idsTrue"], abs=1e-12)  # rank 1's maps binned at compute
    assert padded == pytest.approx(single["exact_idsTrue"], abs=1e-12)
