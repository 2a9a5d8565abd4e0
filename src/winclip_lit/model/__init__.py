"""Pure-torch WinCLIP model: no Lightning, Hydra or W&B imports here."""

from winclip_lit.model.backbones import TINY_MODEL_NAME, load_backbone, register_model_configs
from winclip_lit.model.errors import UnsupportedBackboneError, WeightsUnavailableError, WinCLIPError
from winclip_lit.model.features import ImageFeatures
from winclip_lit.model.preprocess import ImageTransform
from winclip_lit.model.winclip import WinCLIP, WinCLIPOutput

register_model_configs()

__all__ = [
    "TINY_MODEL_NAME",
    "ImageFeatures",
    "ImageTransform",
    "UnsupportedBackboneError",
    "WeightsUnavailableError",
    "WinCLIP",
    "WinCLIPError",
    "WinCLIPOutput",
    "load_backbone",
    "register_model_configs",
]
