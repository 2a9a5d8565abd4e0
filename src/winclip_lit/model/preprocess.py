"""Image preprocessing shared by test and reference images (arXiv 2303.14814; docs/algorithm.md 1)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from PIL import Image
from torchvision.transforms import InterpolationMode
from torchvision.transforms import functional as TF

OPENAI_MEAN = (0.48145466, 0.4578275, 0.40821073)
OPENAI_STD = (0.26862954, 0.26130258, 0.27577711)


class ImageTransform:
    """RGB conversion, bicubic resize to a square without crop, tensor conversion, normalisation.

    Picklable, so dataloader workers can run it.

    Args:
        image_size: Side of the square model input in pixels.
        mean: Per-channel normalisation mean (the model's own).
        std: Per-channel normalisation std (the model's own).
    """

    def __init__(
        self,
        image_size: int,
        mean: Sequence[float] = OPENAI_MEAN,
        std: Sequence[float] = OPENAI_STD,
    ) -> None:
        self.image_size = int(image_size)
        self.mean = tuple(float(m) for m in mean)
        self.std = tuple(float(s) for s in std)

    def __call__(self, image: Image.Image) -> torch.Tensor:
        """Transform one PIL image into a normalised (3, S, S) float tensor."""
        image = image.convert("RGB")
        image = TF.resize(
            image,
            [self.image_size, self.image_size],
            interpolation=InterpolationMode.BICUBIC,
            antialias=True,
        )
        tensor = TF.to_tensor(image)
        return TF.normalize(tensor, self.mean, self.std)

    def __repr__(self) -> str:
        return f"ImageTransform(image_size={self.image_size}, mean={self.mean}, std={self.std})"
