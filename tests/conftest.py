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
def tiny_session_model() -> WinCLIP:
    """The tiny random ViT (64 px, 8x8 patch grid), seeded, loaded once per session (never handed to tests)."""
    torch.manual_seed(0)
    return WinCLIP.from_pretrained(TINY_MODEL_NAME, None)


def fresh_winclip(loaded: WinCLIP) -> WinCLIP:
    """A new WinCLIP around ``loaded``'s backbone: the same weights, its own options and category state."""
    return WinCLIP(loaded.clip, loaded.tokenizer, model_name=loaded.model_name, pretrained=loaded.pretrained)


@pytest.fixture()
def tiny_model(tiny_session_model: WinCLIP) -> WinCLIP:
    """A WinCLIP on the session's tiny backbone, new for each test (what one test sets never reaches another)."""
    return fresh_winclip(tiny_session_model)


@pytest.fixture()
def winclip(tiny_model: WinCLIP) -> WinCLIP:
    """The tiny model with no class and no references set."""
    return tiny_model
