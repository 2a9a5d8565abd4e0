"""Shared test set-up: W&B never touches the network, and a tiny random open_clip ViT."""

from __future__ import annotations

import os

os.environ.setdefault("WANDB_MODE", "disabled")
os.environ.setdefault("WANDB_SILENT", "true")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pytest
import torch

from winclip_lit import TINY_MODEL_NAME, WinCLIP


@pytest.fixture(scope="session")
def tiny_model() -> WinCLIP:
    """A WinCLIP on the tiny random ViT (64 px, 8x8 patch grid), seeded, shared by the session."""
    torch.manual_seed(0)
    return WinCLIP.from_pretrained(TINY_MODEL_NAME, None)


@pytest.fixture()
def winclip(tiny_model: WinCLIP) -> WinCLIP:
    """The tiny model with no class and no references set (reset per test)."""
    tiny_model.clear()
    return tiny_model
