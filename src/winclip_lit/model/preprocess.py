"""Image preprocessing shared by test and reference images (arXiv 2303.14814; docs/algorithm.md 1)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from PIL import Image
from torchvision.transforms import InterpolationMode
from torchvision.transforms import functional as TF
from torchvision.transforms.v2 import functional as TF2

OPENAI_MEAN = (0.48145466, 0.4578275, 0.40821073)
OPENAI_STD = (0.26862954, 0.26130258, 0.27577711)

from winclip_lit.model.options import RESIZE_BACKENDS  # noqa: E402

"""``pil``: bicubic resize of the 8-bit PIL image (open_clip's own preprocessing, Accurate-WinCLIP, mala-lab);
``tensor``: the image as float in [0, 1] first, then antialiased bicubic resize of the tensor (anomalib 2.x)."""


def aspect_size(width: int, height: int, side: int) -> tuple[int, int]:
    """(h, w) of an image scaled so that its short side is ``side`` (long side rounded, at least ``side``).

    Examples:
        >>> aspect_size(1500, 1000, 240)
        (240, 360)
        >>> aspect_size(100, 100, 240)
        (240, 240)
    """
    short, long = min(width, height), max(width, height)
    long_side = max(side, round(long * side / short))
    return (side, long_side) if width >= height else (long_side, side)


class ImageTransform:
    """RGB conversion, bicubic resize, tensor conversion, normalisation.

    By default the image is squashed to a square without crop. With ``keep_aspect`` a non-square image is
    scaled so that its short side is ``image_size`` (aspect ratio kept), for tiled scoring
    (``WinCLIP(tiling=True)``). Picklable, so dataloader workers can run it.

    Args:
        image_size: Side of the square model input in pixels.
        mean: Per-channel normalisation mean (the model's own).
        std: Per-channel normalisation std.
        resize_backend: One of :data:`RESIZE_BACKENDS` (default ``pil``).
        keep_aspect: Keep the aspect ratio of non-square images (short side -> ``image_size``).
    """

    def __init__(
        self,
        image_size: int,
        mean: Sequence[float] = OPENAI_MEAN,
        std: Sequence[float] = OPENAI_STD,
        resize_backend: str = "pil",
        keep_aspect: bool = False,
    ) -> None:
        if resize_backend not in RESIZE_BACKENDS:
            raise ValueError(f"resize_backend must be one of {RESIZE_BACKENDS}, got {resize_backend!r}")
        self.image_size = int(image_size)
        self.mean = tuple(float(m) for m in mean)
        self.std = tuple(float(s) for s in std)
        self.resize_backend = resize_backend
        self.keep_aspect = bool(keep_aspect)

    def output_size(self, width: int, height: int) -> tuple[int, int]:
        """(h, w) of the transformed image for an input of ``width`` x ``height`` pixels."""
        if self.keep_aspect:
            return aspect_size(width, height, self.image_size)
        return self.image_size, self.image_size

    def __call__(self, image: Image.Image) -> torch.Tensor:
        """Transform one PIL image into a normalised (3, h, w) float tensor ((3, S, S) unless tiling)."""
        image = image.convert("RGB")
        size = list(self.output_size(*image.size))
        if self.resize_backend == "pil":
            image = TF.resize(image, size, interpolation=InterpolationMode.BICUBIC, antialias=True)
            tensor = TF.to_tensor(image)
        else:
            tensor = TF2.to_dtype(TF2.to_image(image), torch.float32, scale=True)
            tensor = TF2.resize(tensor, size, interpolation=InterpolationMode.BICUBIC, antialias=True)
            tensor = tensor.as_subclass(torch.Tensor)
        return TF.normalize(tensor, self.mean, self.std)

    def __repr__(self) -> str:
        # Default options are left out, so feature-cache fingerprints of default transforms stay stable.
        extra = "" if self.resize_backend == "pil" else f", resize_backend={self.resize_backend!r}"
        extra += ", keep_aspect=True" if self.keep_aspect else ""
        return f"ImageTransform(image_size={self.image_size}, mean={self.mean}, std={self.std}{extra})"
