"""``reading=anomalib`` reproduces anomalib 2.7.0's WinCLIP: same image scores and anomaly maps.

``anomalib_winclip`` below is an independent, plainly written re-statement of anomalib 2.7.0's
``src/anomalib/models/image/winclip/{prompting,utils,torch_model,lightning_model}.py``: its prompt
ensemble (21 templates, state-major), raw mean of the sentence embeddings, the intermediate token map
caught by a hook on ``patch_dropout``, window sequences gathered mask-major and run sequence-first
through open_clip's own blocks (as ``open_clip < 2.26.1``'s ``Transformer.forward`` does after
anomalib's ``permute(1, 0, 2)``), softmax of cosine / 0.07, harmonic aggregation over a coverage mask,
the cross-scale harmonic mean, unclamped association scores and bilinear upsampling; images are read as
float tensors and resized by torchvision's tensor resize, as anomalib's pre-processor does. Our model is
built from the composed ``reading=anomalib`` config on the tiny backbone.

The slow test at the end runs the real anomalib 2.7.0 against our model, in a subprocess with the python
of a second environment (``$WINCLIP_ANOMALIB_PYTHON``, built by ``.ci/anomalib-env``; anomalib needs an
open_clip older than the project's), exchanging tensors through a temporary file (anomalib_worker.py). It
skips, saying why, when that environment is not there.
"""

from __future__ import annotations

import copy
import os
import subprocess
from pathlib import Path

import anomalib_worker
import numpy as np
import open_clip
import pytest
import torch
import torch.nn.functional as F
from hydra import compose, initialize_config_dir
from open_clip.transformer import Transformer
from PIL import Image
from torchvision.transforms.v2 import Compose, InterpolationMode, Normalize, Resize
from torchvision.transforms.v2.functional import to_dtype, to_image

from winclip_lit import TINY_MODEL_NAME, WinCLIP
from winclip_lit.config import CONFIG_DIR
from winclip_lit.config.hydra_setup import prepare_hydra
from winclip_lit.config.validate import model_options
from winclip_lit.model.backbones import _CONFIG_DIR as MODEL_CONFIGS  # the tiny model's config

# anomalib 2.7.0 prompting.py, as data (read from the release).
NORMAL = [
    "{}",
    "flawless {}",
    "perfect {}",
    "unblemished {}",
    "{} without flaw",
    "{} without defect",
    "{} without damage",
]
ANOMALOUS = ["damaged {}", "{} with flaw", "{} with defect", "{} with damage"]
TEMPLATES = [
    "a cropped photo of the {}.", "a close-up photo of a {}.", "a close-up photo of the {}.",
    "a bright photo of a {}.", "a bright photo of the {}.", "a dark photo of the {}.", "a dark photo of a {}.",
    "a jpeg corrupted photo of the {}.", "a jpeg corrupted photo of the {}.", "a blurry photo of the {}.",
    "a blurry photo of a {}.", "a photo of a {}.", "a photo of the {}.", "a photo of a small {}.",
    "a photo of the small {}.", "a photo of a large {}.", "a photo of the large {}.",
    "a photo of the {} for visual inspection.", "a photo of a {} for visual inspection.",
    "a photo of the {} for anomaly detection.", "a photo of a {} for anomaly detection.",
]  # fmt: skip
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


def reading_config(*overrides: str):
    prepare_hydra()
    with initialize_config_dir(CONFIG_DIR, version_base="1.3"):
        return compose("config", overrides=["reading=anomalib", "backbone=tiny_random", *overrides])


def anomalib_preprocess(pils: list[Image.Image], size: int) -> torch.Tensor:
    """anomalib's read_image(as_tensor=True) per file, then WinClip's PreProcessor on the batch."""
    batch = torch.stack([to_dtype(to_image(p.convert("RGB")), torch.float32, scale=True) for p in pils])
    pre = Compose(
        [
            Resize((size, size), antialias=True, interpolation=InterpolationMode.BICUBIC),
            Normalize(CLIP_MEAN, CLIP_STD),
        ]
    )
    return pre(batch).as_subclass(torch.Tensor)


class anomalib_winclip:  # noqa: N801 - a plain re-statement, named after what it restates
    """anomalib 2.7.0's WinClipModel, step by step, on a CLIP whose vision blocks run sequence-first."""

    def __init__(self, clip, class_name: str, scales=(2, 3), temperature: float = 0.07) -> None:
        self.clip, self.scales, self.temperature = clip, scales, temperature
        self.grid = tuple(clip.visual.grid_size)
        h, w = self.grid
        ids = torch.arange(h * w).reshape(1, h, w).float()
        self.masks = [F.unfold(ids, kernel_size=k, stride=1).int() for k in scales]  # (k*k, n_masks)
        normal = [t.format(s.format(class_name)) for s in NORMAL for t in TEMPLATES]
        anomalous = [t.format(s.format(class_name)) for s in ANOMALOUS for t in TEMPLATES]
        with torch.no_grad():
            rows = [
                clip.encode_text(open_clip.tokenizer.tokenize(p)).mean(dim=0, keepdim=True)
                for p in (normal, anomalous)
            ]
        self.text = torch.cat(rows)
        self.reference = None

    def encode(self, batch):
        visual, caught = self.clip.visual, {}
        hook = visual.patch_dropout.register_forward_hook(lambda _m, inputs, _o: caught.update(x=inputs[0]))
        visual.output_tokens = True
        try:
            image, patches = self.clip.encode_image(batch)
        finally:
            hook.remove()
            visual.output_tokens = False
        fmap, windows = caught["x"], []
        for masks in self.masks:
            n_masks = masks.shape[1]
            seqs = torch.cat((torch.zeros(1, n_masks, dtype=torch.int64), masks.long() + 1)).T
            x = torch.cat([torch.index_select(fmap, 1, seq) for seq in seqs])  # mask-major
            x = visual.ln_pre(visual.patch_dropout(x)).permute(1, 0, 2)  # NLD -> LND
            for block in visual.transformer.resblocks:  # open_clip < 2.26.1 Transformer.forward
                x = block(x)
            x = visual.ln_post(x.permute(1, 0, 2))
            pooled, _ = visual._global_pool(x)
            windows.append((pooled @ visual.proj).reshape(n_masks, batch.shape[0], -1).permute(1, 0, 2))
        return image, windows, patches

    def class_scores(self, emb):
        cos = F.normalize(emb, dim=-1) @ F.normalize(self.text, dim=-1).T
        return (cos / self.temperature).softmax(dim=-1)[..., 1]

    def harmonic(self, scores, masks):
        h, w = self.grid
        coverage = (masks.unsqueeze(0) == torch.arange(h * w).view(-1, 1, 1)).any(dim=1)  # (P, n_masks)
        inverse = torch.where(coverage, (1 / scores).unsqueeze(1), 0).sum(dim=-1)
        return (coverage.sum(dim=1) / inverse).reshape(scores.shape[0], h, w).nan_to_num(posinf=0.0)

    @staticmethod
    def association(emb, memory):
        memory = memory.reshape(-1, emb.shape[-1])
        cos = F.normalize(emb, dim=-1) @ F.normalize(memory, dim=-1).T
        return (1 - cos).min(dim=-1)[0] / 2

    def set_reference(self, batch):
        with torch.no_grad():
            _, windows, patches = self.encode(batch)
        self.reference = (windows, patches)

    def __call__(self, batch):
        with torch.no_grad():
            image, windows, patches = self.encode(batch)
        image_scores = self.class_scores(image)
        parts = [image_scores.view(-1, 1, 1).repeat(1, *self.grid)]
        parts += [self.harmonic(self.class_scores(w), m) for w, m in zip(windows, self.masks, strict=True)]
        maps = (len(self.scales) + 1) / (1 / torch.stack(parts)).sum(dim=0)
        if self.reference is not None:
            ref_windows, ref_patches = self.reference
            few = [self.association(patches, ref_patches).reshape(-1, *self.grid)]
            few += [
                self.harmonic(self.association(w, r), m)
                for w, r, m in zip(windows, ref_windows, self.masks, strict=True)
            ]
            few_map = torch.stack(few).mean(dim=0)
            maps = (maps + few_map) / 2
            image_scores = (image_scores + few_map.amax(dim=(-2, -1))) / 2
        pixels = F.interpolate(maps.unsqueeze(1), size=batch.shape[-2:], mode="bilinear").squeeze(1)
        return image_scores, pixels


@pytest.fixture(scope="module")
def sequence_first_clip():
    """The tiny random CLIP with its vision blocks rebuilt sequence-first (open_clip < 2.26 layout)."""
    torch.manual_seed(0)
    clip = open_clip.create_model(TINY_MODEL_NAME, pretrained=None).eval()
    old = clip.visual.transformer
    if not getattr(old, "batch_first", False):  # open_clip < 2.26.1: sequence-first already
        return clip
    seq_first = Transformer(width=64, layers=len(old.resblocks), heads=2, batch_first=False)
    seq_first.load_state_dict(old.state_dict())
    clip.visual.transformer = seq_first.eval()
    return clip


def random_pils(seed: int, n: int, size=(90, 120)) -> list[Image.Image]:
    rng = np.random.default_rng(seed)
    return [Image.fromarray(rng.integers(0, 255, (*size, 3), dtype=np.uint8)) for _ in range(n)]


def ours_for(clip) -> WinCLIP:
    model = WinCLIP(
        copy.deepcopy(clip), open_clip.get_tokenizer(TINY_MODEL_NAME), **model_options(reading_config())
    )
    model.set_class_name("metal_nut")
    return model


def test_reading_anomalib_equals_anomalib_zero_and_few_shot(sequence_first_clip):
    clip = sequence_first_clip
    reference = anomalib_winclip(clip, "metal_nut")
    ours = ours_for(clip)
    assert (
        ours.class_name == "metal_nut"
        and ours.options.text_average == "raw"
        and len(ours.options.templates) == 21
    )
    pils = random_pils(5, 3)
    x_ref = anomalib_preprocess(pils, 64)
    x_ours = torch.stack([ours.transform(p) for p in pils])
    torch.testing.assert_close(x_ours, x_ref, atol=1e-6, rtol=0)

    scores, maps = reference(x_ref)
    out = ours(x_ours)
    torch.testing.assert_close(out.image_scores, scores, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(out.anomaly_maps, maps, atol=1e-5, rtol=1e-5)

    refs = random_pils(6, 2)
    reference.set_reference(anomalib_preprocess(refs, 64))
    ours.set_reference_images(torch.stack([ours.transform(p) for p in refs]))
    scores, maps = reference(x_ref)
    out = ours(x_ours)
    torch.testing.assert_close(out.image_scores, scores, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(out.anomaly_maps, maps, atol=1e-5, rtol=1e-5)


def test_reading_paper_differs_from_anomalib(sequence_first_clip):
    """The reference is sensitive to what the reading changes: the paper reading does not match it."""
    clip = sequence_first_clip
    reference = anomalib_winclip(clip, "metal_nut")
    paper = WinCLIP(copy.deepcopy(clip), open_clip.get_tokenizer(TINY_MODEL_NAME))
    paper.set_class_name("metal_nut")
    pils = random_pils(5, 3)
    scores, _ = reference(anomalib_preprocess(pils, 64))
    out = paper(torch.stack([paper.transform(p) for p in pils]))
    assert (out.image_scores - scores).abs().max() > 1e-4


ANOMALIB_PYTHON = "WINCLIP_ANOMALIB_PYTHON"
HOW_TO_GET_IT = ".ci/run sets it; or run .ci/anomalib-env <the project's venv>, which builds that env and prints its python"


def anomalib_python() -> str:
    """The python of the anomalib 2.7.0 env (``$WINCLIP_ANOMALIB_PYTHON``), or skip saying why there is none."""
    python = os.environ.get(ANOMALIB_PYTHON, "")
    if not python:
        pytest.skip(
            f"{ANOMALIB_PYTHON} is not set: no python with anomalib 2.7.0 to compare against ({HOW_TO_GET_IT})"
        )
    if not os.access(python, os.X_OK):
        pytest.skip(f"{ANOMALIB_PYTHON}={python} is not an executable python ({HOW_TO_GET_IT})")
    return python


def run_real_anomalib(python: str, tmp_path: Path, test: list[Path], reference: list[Path]) -> dict:
    """anomalib_worker.py's output for these PNG files, run by ``python``; skips when that env is unusable."""
    request, output = tmp_path / "request.pt", tmp_path / "anomalib.pt"
    torch.save(
        {
            "model_configs": str(MODEL_CONFIGS),
            "model_name": TINY_MODEL_NAME,
            "size": 64,
            "class_name": "metal_nut",
            "test": [str(p) for p in test],
            "reference": [str(p) for p in reference],
        },
        request,
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"HF_HUB_OFFLINE": "1"}
    done = subprocess.run(
        [python, anomalib_worker.__file__, str(request), str(output)], env=env, capture_output=True, text=True
    )
    if done.returncode == anomalib_worker.ENV_UNUSABLE:
        pytest.skip(f"{ANOMALIB_PYTHON}: {done.stderr.strip().splitlines()[-1]} ({HOW_TO_GET_IT})")
    assert done.returncode == 0, f"anomalib_worker.py failed:\n{done.stderr}"
    return torch.load(output, weights_only=True)


@pytest.mark.slow
def test_reading_anomalib_equals_the_real_anomalib(tmp_path):
    """The real anomalib 2.7.0 (in its own env, open_clip 2.24) and ``reading=anomalib`` on the same PNG files
    and the same random tiny CLIP: same pre-processed inputs, zero- and 2-shot image scores and maps."""
    python = anomalib_python()
    paths = {}
    for name, pils in {"test": random_pils(5, 3), "ref": random_pils(6, 2)}.items():
        paths[name] = [tmp_path / f"{name}{i}.png" for i in range(len(pils))]
        for pil, path in zip(pils, paths[name], strict=True):
            pil.save(path)
    theirs = run_real_anomalib(python, tmp_path, paths["test"], paths["ref"])

    clip = open_clip.create_model(TINY_MODEL_NAME, pretrained=None).eval()
    clip.load_state_dict(theirs["state_dict"])  # strict: every weight of theirs, no other
    ours = ours_for(clip)
    x_test, x_ref = ([ours.transform(Image.open(p)) for p in paths[name]] for name in ("test", "ref"))
    torch.testing.assert_close(torch.stack(x_test), theirs["test"], atol=1e-6, rtol=0)
    torch.testing.assert_close(torch.stack(x_ref), theirs["reference"], atol=1e-6, rtol=0)

    for shots in ("zero_shot", "few_shot"):
        if shots == "few_shot":
            ours.set_reference_images(torch.stack(x_ref))
        out = ours(torch.stack(x_test))
        scores, maps = theirs[shots]
        torch.testing.assert_close(out.image_scores, scores, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(out.anomaly_maps, maps, atol=1e-5, rtol=1e-5)
