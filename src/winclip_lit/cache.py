"""On-disk cache of prompt-independent image features, so sweeps encode each image once.

Features depend only on the backbone, its weights, the preprocessed image tensor, the window sizes and the
precision (the model's :meth:`~winclip_lit.WinCLIP.feature_fingerprint`), not on prompts, temperature,
shots or seeds. Entries live in ``<directory>/<fingerprint>/<image-hash>.pt``: the image hash is taken over
the preprocessed tensor itself, so a changed file, resize or normalisation can never hit a stale entry, and
each entry stores its hash, so an entry copied over another image's is detected and re-encoded. An entry
holds only its own image's features (float32 on ViT-B-16-plus-240: 1.75 MB, whatever the batch size).
Writes go to a temporary file and are renamed into place, so concurrent sweep jobs are safe.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import torch

from winclip_lit.files import atomic_open
from winclip_lit.model.features import ImageFeatures
from winclip_lit.model.winclip import WinCLIP

STORAGE_DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


def tensor_key(image: torch.Tensor) -> str:
    """Content hash of one preprocessed image tensor (shape, dtype and values)."""
    data = image.detach().to("cpu", torch.float32).contiguous()
    digest = hashlib.blake2b(digest_size=16)
    digest.update(str(tuple(data.shape)).encode())
    digest.update(data.numpy().tobytes())
    return digest.hexdigest()


class FeatureCache:
    """Disk cache of :class:`ImageFeatures`, one file per image.

    Args:
        directory: Root folder of the cache (shared by all jobs of a sweep).
        fingerprint: The model's ``feature_fingerprint()``; entries of other fingerprints are never read.
        storage_dtype: ``float32`` (exact, default) or ``float16``/``bfloat16`` (half the disk).
    """

    def __init__(
        self, directory: str | os.PathLike, fingerprint: str, storage_dtype: str = "float32"
    ) -> None:
        if storage_dtype not in STORAGE_DTYPES:
            raise ValueError(f"storage_dtype must be one of {sorted(STORAGE_DTYPES)}, got {storage_dtype!r}")
        self.root = Path(directory) / f"{fingerprint}-{storage_dtype}"
        self.root.mkdir(parents=True, exist_ok=True)
        self.dtype = STORAGE_DTYPES[storage_dtype]
        self.hits = 0
        self.misses = 0

    def path(self, key: str) -> Path:
        """File of one cache entry."""
        return self.root / key[:2] / f"{key}.pt"

    def load(self, key: str) -> ImageFeatures | None:
        """The cached features of one image, or None when absent, unreadable or not this image's entry.

        Every entry stores the key it was written under; an entry whose stored key differs (a file
        copied or moved over another image's entry) is ignored, re-encoded and overwritten.
        """
        path = self.path(key)
        if not path.is_file():
            return None
        try:
            data = torch.load(path, map_location="cpu", weights_only=True)
            if data.get("key") != key:
                return None
            return ImageFeatures(
                data["image"], tuple(data["windows"]), data["patches"], data.get("canvas")
            ).to(dtype=torch.float32)
        except Exception:  # a damaged entry is recomputed, never trusted
            return None

    def save(self, key: str, features: ImageFeatures) -> None:
        """Atomically write the features of one image, with the key they belong to.

        Each tensor is copied first: a slice of a batch is a view, and ``torch.save`` would write the
        whole batch's storage with it (an entry of a batch of 8 would be 8x its size).
        """
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        feats = features.to("cpu", self.dtype)
        payload = {
            "key": key,
            "image": feats.image.clone(),
            "windows": [w.clone() for w in feats.windows],
            "patches": feats.patches.clone(),
        }
        if feats.canvas is not None:  # images scored in tiles (WinCLIP(tiling=True))
            payload["canvas"] = feats.canvas.clone()
        with atomic_open(path, "wb") as handle:
            torch.save(payload, handle)

    def encode(
        self, model: WinCLIP, images: torch.Tensor, image_paths: Sequence[str] | None = None
    ) -> ImageFeatures:
        """Features of a batch: cached entries are loaded, the rest encoded in one call and stored.

        Args:
            model: The model whose fingerprint this cache was opened with.
            images: (B, 3, S, S) preprocessed images.
            image_paths: Optional file names, recorded in an index for people inspecting the cache.
        """
        keys = [tensor_key(image) for image in images]
        found = [self.load(key) for key in keys]
        missing = [i for i, feats in enumerate(found) if feats is None]
        if missing:
            encoded = model.encode(images[missing]).to("cpu")
            for pos, i in enumerate(missing):
                found[i] = encoded[pos]
                self.save(keys[i], found[i])
            if image_paths is not None:
                self._record(keys, image_paths, missing)
        self.hits += len(keys) - len(missing)
        self.misses += len(missing)
        return ImageFeatures.cat(found).to(model.device)

    def _record(self, keys: Sequence[str], image_paths: Sequence[str], rows: Iterable[int]) -> None:
        """Append ``{"key", "path"}`` lines to ``index.jsonl`` in one ``write`` call (O_APPEND), so lines
        of concurrent jobs never interleave."""
        text = "".join(json.dumps({"key": keys[i], "path": str(image_paths[i])}) + "\n" for i in rows)
        data = text.encode("utf-8")
        fd = os.open(self.root / "index.jsonl", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            written = os.write(fd, data)
            while written < len(data):  # a short write (rare: full disk, signals) continues the same line
                written += os.write(fd, data[written:])
        finally:
            os.close(fd)
