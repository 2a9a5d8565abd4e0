"""Helpers shared by the end-to-end benchmarks: a synthetic category and timed CLI runs."""

from __future__ import annotations

import math
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from winclip_lit.data.synthetic import make_folder, make_mvtec

ROOT = Path(__file__).resolve().parent.parent
BACKBONES = {"tiny": "tiny_random", "full": "vit_b16_plus_240"}
MODEL_NAMES = {"tiny": "winclip-tiny-vit", "full": "ViT-B-16-plus-240"}


def cpu_name() -> str:
    """The CPU model from /proc/cpuinfo (or the platform's processor string)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def make_category(root: Path, images: int, size: int = 256) -> Path:
    """A synthetic MVTec-AD category ``bottle`` with ``images`` test images (half defective) and 8 train."""
    make_mvtec(
        root,
        categories=("bottle",),
        n_train=8,
        n_good_test=images - images // 2,
        n_defect=images // 2,
        size=(size, size),
    )
    return root


def held_out(normals: int, reference_split: float = 0.2) -> int:
    """Normal images that ``FolderDataModule`` keeps out of the test set (its ``reference_split`` rule)."""
    return math.floor(reference_split * normals + 0.5)


def make_folder_dataset(root: Path, images: int, size: int = 256) -> dict[str, object]:
    """A synthetic ``dataset=folder`` with exactly ``images`` test images (half anomalous, with masks).

    Returns:
        The folder datamodule's arguments: ``normal_dir``, ``abnormal_dirs``, ``mask_dir``.
    """
    anomalous = images // 2
    normals = images - anomalous
    while normals - held_out(normals) < images - anomalous:
        normals += 1
    make_folder(root, n_normal=normals, n_abnormal=(anomalous,), size=(size, size))
    return {
        "normal_dir": str(root / "normal"),
        "abnormal_dirs": [str(root / "abnormal_0")],
        "mask_dir": str(root / "masks"),
    }


def folder_overrides(dataset: dict[str, object], backbone: str, out: Path) -> list[str]:
    """Overrides running evaluate.py on a :func:`make_folder_dataset` folder (random weights), writing under ``out``."""
    abnormal = ",".join(str(d) for d in dataset["abnormal_dirs"])
    return [
        f"backbone={backbone}",
        "backbone.pretrained=null",
        "dataset=folder",
        f"dataset.normal_dir={dataset['normal_dir']}",
        f"dataset.abnormal_dirs=[{abnormal}]",
        f"dataset.mask_dir={dataset['mask_dir']}",
        f"hydra.run.dir={out}/run",
        f"hydra.sweep.dir={out}/sweep",
    ]


def run_cli(script: str, *overrides: str, env: dict[str, str] | None = None) -> float:
    """Wall time of ``python <script> <overrides>`` in a subprocess; raises with its stderr on failure."""
    full_env = {**os.environ, "WANDB_MODE": "disabled", "HF_HUB_OFFLINE": "1", **(env or {})}
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, str(ROOT / script), *overrides],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{script} {' '.join(overrides)} failed:\n{proc.stderr[-3000:]}")
    return elapsed


def dataset_overrides(root: Path, backbone: str, out: Path) -> list[str]:
    """Overrides pointing evaluate.py at the synthetic category, writing under ``out``.

    The backbone runs with random weights (``backbone.pretrained=null``): speed does not depend on them.
    """
    return [
        f"backbone={backbone}",
        "backbone.pretrained=null",
        f"dataset.root={root}",
        "dataset.categories=bottle",
        f"hydra.run.dir={out}/run",
        f"hydra.sweep.dir={out}/sweep",
    ]


def aurocs(batches: list[dict], scores: Any, maps: Any) -> tuple[float, float]:
    """Image and pixel AUROC (the project's exact metrics) of one path's outputs for ``batches``.

    ``scores`` (N,) and ``maps`` (N, H, W) are tensors or numpy arrays, in the batches' order.
    """
    import torch

    from winclip_lit.metrics import AnomalyMetrics

    scores, maps = torch.as_tensor(scores), torch.as_tensor(maps)
    metrics = AnomalyMetrics(pixel=True)
    start = 0
    for batch in batches:
        stop = start + len(batch["label"])
        metrics.update(scores[start:stop], batch["label"], maps[start:stop], batch["mask"], batch["index"])
        start = stop
    result = metrics.compute()
    return float(result["image_auroc"]), float(result["pixel_auroc"])
