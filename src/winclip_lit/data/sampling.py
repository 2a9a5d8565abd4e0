"""Seeded, machine-independent choice of the k-shot reference images and of held-out reference pools."""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Sequence
from pathlib import Path

from winclip_lit.data.errors import DatasetError


def _stable_key(seed: int | str, relative: str) -> str:
    return hashlib.sha256(f"{seed}/{relative}".encode()).hexdigest()


def sample_reference_files(pool: Sequence[str | os.PathLike], k: int, seed: int | str = 0) -> list[Path]:
    """Draw ``k`` reference files uniformly without replacement from ``pool``.

    The draw is a seeded random permutation of the sorted pool: every file gets the key
    ``sha256(f"{seed}/{relative path}")`` (the path relative to the pool's common folder, so the choice
    does not depend on where the dataset lives) and the ``k`` smallest keys win. It depends only on the
    file names, ``k`` and ``seed``: identical across machines, Python/NumPy/PyTorch versions, numbers
    of GPUs and dataloader workers, and never touches a global RNG. A smaller ``k`` with the same seed
    gives a prefix of a larger ``k``'s choice.

    Args:
        pool: Candidate files (the category's normal training images).
        k: Number of references; 0 gives an empty list.
        seed: Seed of the draw.

    Returns:
        The chosen files in draw order.

    Raises:
        DatasetError: If ``k`` is negative or larger than the pool.
    """
    k = int(k)
    if k < 0:
        raise DatasetError(f"k_shot must be >= 0, got {k}")
    paths = sorted({Path(p) for p in pool}, key=lambda p: p.as_posix())
    if k > len(paths):
        where = f" (in {paths[0].parent})" if paths else ""
        raise DatasetError(
            f"k_shot={k} is larger than the reference pool of {len(paths)} normal image(s){where}; "
            f"use k_shot <= {len(paths)} or add normal images"
        )
    if k == 0:
        return []
    base = Path(os.path.commonpath([str(p.parent) for p in paths]))
    ranked = sorted(paths, key=lambda p: (_stable_key(seed, p.relative_to(base).as_posix()), p.as_posix()))
    return ranked[:k]


def hold_out(
    normals: Sequence[str | os.PathLike], share: float, seed: int | str = 0
) -> tuple[list[Path], list[Path]]:
    """Split normal images into (tested, held out) where the held-out part becomes a reference pool.

    ``round(share * n)`` images (halves round up) are held out by the same seeded draw as
    :func:`sample_reference_files`, so the split depends only on the file names, ``share`` and
    ``seed``. Used where a dataset has no official training split (a plain folder, KolektorSDD).

    Args:
        normals: The normal images.
        share: Fraction held out, in [0, 1).
        seed: Seed of the draw (kept apart from the k-shot seed, so the test set is the same for
            every k-shot seed).

    Returns:
        The remaining images in sorted order and the held-out images in sorted order.

    Raises:
        DatasetError: If ``share`` is outside [0, 1).
    """
    share = float(share)
    if not 0.0 <= share < 1.0:
        raise DatasetError(f"reference_split={share} must be in [0, 1); e.g. 0.2")
    paths = sorted({Path(p) for p in normals}, key=lambda p: p.as_posix())
    n_hold = math.floor(share * len(paths) + 0.5)
    held = set(sample_reference_files(paths, n_hold, seed))
    return [p for p in paths if p not in held], sorted(held, key=lambda p: p.as_posix())


def calibration_files(pool: Sequence[str | os.PathLike], k: int, n: int, seed: int | str = 0) -> list[Path]:
    """Draw ``n`` calibration files from ``pool``, never one of the ``k`` references of the same seed.

    The pool is ranked by the seeded draw of :func:`sample_reference_files`, whose first ``k`` files are
    the references; the calibration files are the next ``n``. They depend only on the file names, ``k``,
    ``n`` and ``seed``.

    Args:
        pool: The category's normal training images (the reference pool).
        k: Number of references drawn with ``seed`` (skipped).
        n: Number of calibration images.
        seed: Seed of the draw.

    Returns:
        The calibration files in draw order.

    Raises:
        DatasetError: If the pool holds fewer than ``k + n`` images.
    """
    paths = sorted({Path(p) for p in pool}, key=lambda p: p.as_posix())
    if int(k) + int(n) > len(paths):
        where = f" (in {paths[0].parent})" if paths else ""
        raise DatasetError(
            f"threshold.num_calibration={n} needs {n} normal images besides the {k} reference(s), but the "
            f"reference pool holds {len(paths)}{where}; lower threshold.num_calibration (and raise "
            "threshold.alpha) or add normal training images"
        )
    return sample_reference_files(paths, int(k) + int(n), seed)[int(k) :]


def split_validation(
    labels: Sequence[int], names: Sequence[str], share: float, seed: int | str = 0
) -> list[int]:
    """Indices of a seeded validation part: ``round(share * n)`` of each class (at least 1 of 2 or more).

    Each class (normal, anomalous) is drawn separately by the seeded draw of
    :func:`sample_reference_files` over ``names``, so the part holds both classes whenever the set does.

    Args:
        labels: 0 normal, 1 anomalous, per item.
        names: A unique name per item (its path relative to the dataset root).
        share: Fraction held out, in (0, 1).
        seed: Seed of the draw.

    Returns:
        The held-out indices, sorted.
    """
    chosen: list[int] = []
    for label in (0, 1):
        members = {names[i]: i for i, value in enumerate(labels) if int(value) == label}
        count = math.floor(float(share) * len(members) + 0.5)
        count = max(count, 1) if len(members) >= 2 else 0
        drawn = sample_reference_files(list(members), count, seed) if count else []
        chosen += [members[p.as_posix()] for p in drawn]
    return sorted(chosen)
