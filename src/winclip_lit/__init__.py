"""winclip-lit: WinCLIP / WinCLIP+ zero- and few-shot anomaly classification and segmentation
(Jeong et al., CVPR 2023, arXiv 2303.14814).

The model exports are imported lazily, so ``import winclip_lit.metrics`` or ``winclip_lit.data`` does not
pay for importing open_clip, Lightning or W&B.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_MODEL_EXPORTS = (
    "TINY_MODEL_NAME",
    "ImageFeatures",
    "ImageTransform",
    "InvalidOptionError",
    "UnsupportedBackboneError",
    "WeightsUnavailableError",
    "WinCLIP",
    "WinCLIPError",
    "WinCLIPOptions",
    "WinCLIPOutput",
)

__all__ = [*_MODEL_EXPORTS, "__version__"]


def __getattr__(name: str) -> Any:
    if name in _MODEL_EXPORTS:
        return getattr(importlib.import_module("winclip_lit.model"), name)
    raise AttributeError(f"module 'winclip_lit' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
