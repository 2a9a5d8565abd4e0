"""Deterministic sample choice: round robin over normal images and every defect type."""

from __future__ import annotations

import random

import pytest

from winclip_lit.samples import ImageResult, choose_samples, sample_indices

# An MVTec-AD-like test set: the first 6 sorted files are all broken_large.
FILES = {
    "broken_large": [f"bottle/test/broken_large/{i:03d}.png" for i in range(6)],
    "broken_small": [f"bottle/test/broken_small/{i:03d}.png" for i in range(2)],
    "contamination": ["bottle/test/contamination/000.png"],
    "good": [f"bottle/test/good/{i:03d}.png" for i in range(4)],
}
RESULTS = [
    ImageResult(file, defect, 0 if defect == "good" else 1, score=0.1 * i)
    for defect, files in FILES.items()
    for i, file in enumerate(files)
]


def test_round_robin_over_normal_then_sorted_defect_types() -> None:
    chosen = [r.file for r in choose_samples(RESULTS, 8)]
    assert chosen == [
        "bottle/test/good/000.png",
        "bottle/test/broken_large/000.png",
        "bottle/test/broken_small/000.png",
        "bottle/test/contamination/000.png",
        "bottle/test/good/001.png",
        "bottle/test/broken_large/001.png",
        "bottle/test/broken_small/001.png",
        "bottle/test/good/002.png",  # contamination and broken_small have run out
    ]
    assert chosen != sorted(r.file for r in RESULTS)[:8]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_choice_ignores_input_order_and_scores(seed: int) -> None:
    shuffled = RESULTS.copy()
    random.Random(seed).shuffle(shuffled)
    rescored = [ImageResult(r.file, r.defect, r.label, score=random.Random(seed).random()) for r in shuffled]
    assert [r.file for r in choose_samples(rescored, 5)] == [r.file for r in choose_samples(RESULTS, 5)]


def test_all_images_once_when_n_is_large_and_none_for_zero() -> None:
    files = [r.file for r in RESULTS]
    everything = sample_indices(files, [r.defect for r in RESULTS], [r.label for r in RESULTS], 100)
    assert sorted(everything) == list(range(len(RESULTS)))
    assert sample_indices(files, [r.defect for r in RESULTS], [r.label for r in RESULTS], 0) == []
    assert choose_samples([], 4) == []


def test_mismatched_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        sample_indices(["a.png", "b.png"], ["good"], [0, 1], 2)
