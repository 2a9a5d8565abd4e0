"""Helpers of the deployment tests: config composition, torch reference outputs, comparisons."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig
from PIL import Image
from subprocess_env import subprocess_env

from winclip_lit.config import CONFIG_DIR
from winclip_lit.config.hydra_setup import prepare_hydra

REPO = Path(__file__).resolve().parents[2]
TINY = ["backbone=tiny_random", "logger=none", "loader.num_workers=0", "trainer.enable_progress_bar=false"]
PARITY = 1e-4
"""Exported graph vs PyTorch, scores and maps (the issue's bound)."""


def winclip_lit_command() -> list[str]:
    """The installed ``winclip-lit`` console script beside this Python (else ``python -m winclip_lit``)."""
    script = Path(sys.executable).parent / "winclip-lit"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "winclip_lit"]


def cli_env(tmp: Path) -> dict[str, str]:
    """Environment of command runs: W&B and the model hub offline, outputs and caches under ``tmp``."""
    return subprocess_env(tmp)


def make_config(*overrides: str) -> DictConfig:
    """Compose conf/config.yaml with command-line style overrides (numeric shot options allowed)."""
    prepare_hydra()
    with initialize_config_dir(CONFIG_DIR, version_base="1.3"):
        return compose("config", overrides=list(overrides))


def torch_outputs(model, images: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """The PyTorch model's image scores and anomaly maps as numpy arrays."""
    out = model(images)
    return out.image_scores.numpy(), out.anomaly_maps.numpy()


def max_difference(got, expected) -> float:
    """Largest absolute difference of two arrays of equal shape."""
    got, expected = np.asarray(got), np.asarray(expected)
    assert got.shape == expected.shape, (got.shape, expected.shape)
    return float(np.abs(got.astype(np.float64) - expected.astype(np.float64)).max())


def write_images(folder: Path, count: int, seed: int, size: tuple[int, int] = (70, 90)) -> list[Path]:
    """``count`` random RGB PNGs of ``size`` (height, width) in ``folder``; a bright square on the odd ones."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for i in range(count):
        pixels = rng.integers(20, 100, size=(*size, 3), dtype=np.uint8)
        if i % 2:
            pixels[10:30, 20:40] = 255
        files.append(folder / f"{i:02d}.png")
        Image.fromarray(pixels).save(files[-1])
    return files
