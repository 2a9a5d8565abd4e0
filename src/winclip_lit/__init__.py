"""winclip-lit: WinCLIP / WinCLIP+ zero- and few-shot anomaly classification and segmentation."""

from winclip_lit.model import (
    TINY_MODEL_NAME,
    ImageFeatures,
    ImageTransform,
    UnsupportedBackboneError,
    WeightsUnavailableError,
    WinCLIP,
    WinCLIPOutput,
)

__version__ = "0.1.0"

__all__ = [
    "TINY_MODEL_NAME",
    "ImageFeatures",
    "ImageTransform",
    "UnsupportedBackboneError",
    "WeightsUnavailableError",
    "WinCLIP",
    "WinCLIPOutput",
    "__version__",
]
