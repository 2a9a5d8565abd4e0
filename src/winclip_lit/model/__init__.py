"""Pure-torch WinCLIP model (arXiv 2303.14814): no Lightning, Hydra or W&B imports here.

Names load lazily, so ``winclip_lit.model.options`` (the option schema) is cheap to import; importing
:mod:`winclip_lit.model.backbones` registers the tiny test ViT with open_clip.
"""

from __future__ import annotations

from winclip_lit.lazy import lazy_exports

_EXPORTS = {
    "TINY_MODEL_NAME": "winclip_lit.model.backbones",
    "load_backbone": "winclip_lit.model.backbones",
    "register_model_configs": "winclip_lit.model.backbones",
    "UnsupportedBackboneError": "winclip_lit.model.errors",
    "WeightsUnavailableError": "winclip_lit.model.errors",
    "WinCLIPError": "winclip_lit.model.errors",
    "IncompatibleStateError": "winclip_lit.model.errors",
    "InvalidOptionError": "winclip_lit.model.options",
    "WinCLIPOptions": "winclip_lit.model.options",
    "ImageFeatures": "winclip_lit.model.features",
    "ImageTransform": "winclip_lit.model.preprocess",
    "WinCLIP": "winclip_lit.model.winclip",
    "WinCLIPOutput": "winclip_lit.model.winclip",
}

__getattr__, __dir__, __all__ = lazy_exports(__name__, _EXPORTS)
