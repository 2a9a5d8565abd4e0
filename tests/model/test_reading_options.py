"""The model options behind the public readings: patch features, class names, resize backend, tiling.

Tiled scoring is checked against a naive reference written here: tiles cut by hand, each scored by the
plain (square) model, then merged pixel by pixel with Python loops.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from torchvision.transforms.v2 import Compose, InterpolationMode, Normalize, Resize
from torchvision.transforms.v2.functional import to_dtype, to_image

from winclip_lit import WinCLIP
from winclip_lit.cache import FeatureCache
from winclip_lit.model.preprocess import ImageTransform
from winclip_lit.model.tiling import tile_starts


@pytest.fixture(scope="module")
def images():
    torch.manual_seed(3)
    return torch.randn(2, 3, 64, 64)


def full_tokens(clip, images):
    """Final-layer tokens of the full image through open_clip's own modules."""
    visual = clip.visual
    with torch.no_grad():
        return visual.transformer(visual._embeds(images))


@pytest.mark.parametrize("kind", ["ln_post", "pre_ln_post", "projected"])
def test_patch_features_options(tiny_model, images, kind):
    clip = tiny_model.clip
    model = WinCLIP(clip, tiny_model.tokenizer, patch_features=kind)
    tokens = full_tokens(clip, images)[:, 1:]
    with torch.no_grad():
        expected = {
            "pre_ln_post": tokens,
            "ln_post": clip.visual.ln_post(tokens),
            "projected": clip.visual.ln_post(tokens) @ clip.visual.proj,
        }[kind]
    torch.testing.assert_close(
        model.encode(images).patches, F.normalize(expected, dim=-1), atol=2e-5, rtol=1e-4
    )


def test_project_patches_is_an_alias_and_conflicts_are_refused(tiny_model):
    clip, tok = tiny_model.clip, tiny_model.tokenizer
    assert WinCLIP(clip, tok, project_patches=True).encoder.patch_features == "projected"
    with pytest.raises(ValueError, match="contradicts"):
        WinCLIP(clip, tok, project_patches=True, patch_features="pre_ln_post")
    with pytest.raises(ValueError, match="patch_features='after_proj': one of"):
        WinCLIP(clip, tok, patch_features="after_proj")


def test_fingerprint_changes_with_feature_options(tiny_model):
    clip, tok = tiny_model.clip, tiny_model.tokenizer
    prints = {
        WinCLIP(clip, tok).feature_fingerprint(),
        WinCLIP(clip, tok, patch_features="pre_ln_post").feature_fingerprint(),
        WinCLIP(clip, tok, patch_features="projected").feature_fingerprint(),
        WinCLIP(clip, tok, resize_backend="tensor").feature_fingerprint(),
        WinCLIP(clip, tok, tiling=True).feature_fingerprint(),
        WinCLIP(clip, tok, tiling=True, tile_stride=0.5).feature_fingerprint(),
    }
    assert len(prints) == 6
    # options that do not touch the features leave the key alone
    assert WinCLIP(clip, tok, raw_class_names=True, temperature=0.01).feature_fingerprint() == (
        WinCLIP(clip, tok).feature_fingerprint()
    )


def test_raw_class_names_use_the_folder_name_verbatim(tiny_model):
    clip, tok = tiny_model.clip, tiny_model.tokenizer
    raw = WinCLIP(clip, tok, raw_class_names=True, templates=["a photo of a {}."])
    normal, anomalous = raw.prompts("metal_nut")
    assert normal[0] == "a photo of a metal_nut." and anomalous[0] == "a photo of a damaged metal_nut."
    assert raw.class_name_of("pcb1") == "pcb1"
    assert WinCLIP(clip, tok).class_name_of("pcb1") == "printed circuit board"
    assert WinCLIP(clip, tok, class_name_map={}).class_name_of("pipe_fryum") == "pipe fryum"
    assert (
        WinCLIP(clip, tok, raw_class_names=True, fixed_class_name="object").class_name_of("pcb1") == "object"
    )


def test_tensor_resize_backend_is_anomalibs_preprocessing():
    rng = np.random.default_rng(0)
    pil = Image.fromarray(rng.integers(0, 255, (90, 120, 3), dtype=np.uint8))
    ours = ImageTransform(64, resize_backend="tensor")(pil)
    # independent statement of anomalib 2.x: read_image(as_tensor=True), then the PreProcessor transform
    pre = Compose(
        [
            Resize((64, 64), antialias=True, interpolation=InterpolationMode.BICUBIC),
            Normalize(mean=(0.48145466, 0.4578275, 0.40821073), std=(0.26862954, 0.26130258, 0.27577711)),
        ]
    )
    expected = pre(to_dtype(to_image(pil), torch.float32, scale=True)[None])[0]
    torch.testing.assert_close(ours, expected.as_subclass(torch.Tensor), atol=1e-6, rtol=0)
    # and it is not the PIL path (8-bit rounding after the resize)
    assert (ours - ImageTransform(64)(pil)).abs().max() > 1e-3
    with pytest.raises(ValueError, match="resize_backend"):
        ImageTransform(64, resize_backend="cv2")


def test_tiling_transform_keeps_the_aspect_ratio():
    transform = ImageTransform(64, keep_aspect=True)
    wide = Image.new("RGB", (150, 100))
    tall = Image.new("RGB", (100, 250))
    assert transform(wide).shape == (3, 64, 96)
    assert transform(tall).shape == (3, 160, 64)
    assert transform(Image.new("RGB", (80, 80))).shape == (3, 64, 64)


def test_tile_starts_hand_worked():
    # mala-lab's loop on a 1500 x 1000 VisA image: tiles at 0 and 500 (step 800), i.e. 0 and 120 at 240 px
    assert tile_starts(360, 240, 0.8) == [0, 120]
    # 64 px tiles, step int(0.5 * 64) = 32 over 150 px: 0, 32, 64 and the far-edge tile at 86
    assert tile_starts(150, 64, 0.5) == [0, 32, 64, 86]
    assert tile_starts(64, 64, 0.8) == [0]
    with pytest.raises(ValueError, match="tile_stride"):
        tile_starts(100, 64, 0.0)


def naive_tiled(square: WinCLIP, canvas_images: torch.Tensor, stride: float, rule: str):
    """Cut tiles with explicit offsets, score each with the square model, merge with Python loops."""
    n, _, height, width = canvas_images.shape
    side = min(height, width)
    length = max(height, width)
    step = int(stride * side)
    offsets = sorted({min(x, length - side) for x in range(0, length, step)})
    maps = np.zeros((n, height, width))
    scores = []
    for b in range(n):
        tile_maps, tile_scores = [], []
        for off in offsets:
            if width >= height:
                tile = canvas_images[b : b + 1, :, :, off : off + side]
            else:
                tile = canvas_images[b : b + 1, :, off : off + side, :]
            out = square(tile)
            tile_maps.append(out.anomaly_maps[0].double().numpy())
            tile_scores.append(float(out.image_scores[0]))
        for y in range(height):
            for x in range(width):
                pos = x if width >= height else y
                vals = []
                for t, off in enumerate(offsets):
                    if off <= pos < off + side:
                        vals.append(tile_maps[t][y, x - off] if width >= height else tile_maps[t][y - off, x])
                maps[b, y, x] = np.mean(vals)
        scores.append(max(tile_scores) if rule == "max" else float(np.mean(tile_scores)))
    return np.array(scores), maps


@pytest.mark.parametrize(("shape", "stride", "rule"), [((64, 100), 0.8, "max"), ((90, 64), 0.5, "mean")])
def test_tiled_scores_equal_a_naive_tiling_reference(tiny_model, shape, stride, rule):
    clip, tok = tiny_model.clip, tiny_model.tokenizer
    torch.manual_seed(4)
    canvas = torch.randn(2, 3, *shape)
    refs = torch.randn(1, 3, 64, 90)
    tiled = WinCLIP(clip, tok, tiling=True, tile_stride=stride, tile_image_score=rule)
    square = WinCLIP(clip, tok)
    for model in (tiled, square):
        model.set_class_name("candle")
    # zero-shot
    out = tiled(canvas)
    scores, maps = naive_tiled(square, canvas, stride, rule)
    assert out.anomaly_maps.shape == (2, *shape)
    np.testing.assert_allclose(out.image_scores.numpy(), scores, atol=1e-6)
    np.testing.assert_allclose(out.anomaly_maps.numpy(), maps, atol=1e-6)
    # few-shot: the memory holds every tile of every reference
    tiled.set_reference_images(refs)
    ref_tiles = torch.stack([refs[0, :, :, off : off + 64] for off in tile_starts(90, 64, stride)])
    square.set_reference_images(ref_tiles)
    out = tiled(canvas)
    scores, maps = naive_tiled(square, canvas, stride, rule)
    np.testing.assert_allclose(out.image_scores.numpy(), scores, atol=1e-6)
    np.testing.assert_allclose(out.anomaly_maps.numpy(), maps, atol=1e-6)


def test_tiling_leaves_square_images_alone(tiny_model, images):
    clip, tok = tiny_model.clip, tiny_model.tokenizer
    tiled, square = WinCLIP(clip, tok, tiling=True), WinCLIP(clip, tok)
    for model in (tiled, square):
        model.set_class_name("bottle")
    a, b = tiled(images), square(images)
    assert torch.equal(a.image_scores, b.image_scores) and torch.equal(a.anomaly_maps, b.anomaly_maps)


def test_tiled_smoothing_applies_to_the_merged_map(tiny_model):
    from winclip_lit.model.winclip import gaussian_blur

    clip, tok = tiny_model.clip, tiny_model.tokenizer
    canvas = torch.randn(1, 3, 64, 100)
    plain = WinCLIP(clip, tok, tiling=True)
    smooth = WinCLIP(clip, tok, tiling=True, smoothing_sigma=2.0)
    for model in (plain, smooth):
        model.set_class_name("bottle")
    torch.testing.assert_close(smooth(canvas).anomaly_maps, gaussian_blur(plain(canvas).anomaly_maps, 2.0))


def test_tiled_features_round_trip_through_the_cache(tmp_path, tiny_model):
    model = WinCLIP(tiny_model.clip, tiny_model.tokenizer, tiling=True)
    model.set_class_name("bottle")
    canvas = torch.randn(3, 3, 64, 100)
    cache = FeatureCache(tmp_path, model.feature_fingerprint())
    cache.encode(model, canvas[:2])
    cached = cache.encode(model, canvas)
    assert (cache.hits, cache.misses) == (2, 3)
    assert cached.canvas.tolist() == [[64, 100]] * 3
    direct = model(canvas)
    got = model.score(cached)
    torch.testing.assert_close(got.anomaly_maps, direct.anomaly_maps)
    torch.testing.assert_close(got.image_scores, direct.image_scores)


def test_tiling_input_errors(tiny_model):
    clip, tok = tiny_model.clip, tiny_model.tokenizer
    tiled = WinCLIP(clip, tok, tiling=True)
    tiled.set_class_name("bottle")
    with pytest.raises(ValueError, match=r"min\(H, W\) = 64"):
        tiled(torch.randn(1, 3, 70, 100))
    with pytest.raises(ValueError, match=r"\(N, 3, 64, 64\) normalised tensor"):
        WinCLIP(clip, tok)(torch.randn(1, 3, 64, 100))
    with pytest.raises(ValueError, match="tile_image_score"):
        WinCLIP(clip, tok, tile_image_score="median")
    with pytest.raises(ValueError, match="tile_stride"):
        WinCLIP(clip, tok, tile_stride=1.5)
