"""winclip-lit: WinCLIP / WinCLIP+ zero- and few-shot anomaly classification and segmentation
(Jeong et al., CVPR 2023, arXiv 2303.14814).

The model exports are imported lazily, so ``import winclip_lit.metrics`` or ``winclip_lit.data`` does not
pay for importing open_clip, Lightning or W&B.
"""

from __future__ import annotations

from winclip_lit.lazy import lazy_exports

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

__getattr__, __dir__, _names = lazy_exports(__name__, dict.fromkeys(_MODEL_EXPORTS, "winclip_lit.model"))
__all__ = [*_names, "__version__"]
