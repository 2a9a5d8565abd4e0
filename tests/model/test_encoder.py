"""Window/image/patch features against naive references built from open_clip's own modules."""

import copy

import open_clip
import pytest
import torch
import torch.nn.functional as F
from open_clip.transformer import Transformer

from winclip_lit import TINY_MODEL_NAME, UnsupportedBackboneError, WinCLIP
from winclip_lit.model.encoder import WindowEncoder
from winclip_lit.model.windows import window_indices


def naive_window_embedding(visual, image, patch_ids):
    """One window at a time: explicitly gathered [cls] + window tokens through open_clip's modules."""
    with torch.no_grad():
        x = visual.conv1(image[None]).flatten(2).transpose(1, 2)[0]  # (g*g, width)
        pos = visual.positional_embedding
        cls = visual.class_embedding + pos[0]
        tokens = x[patch_ids] + pos[1 + patch_ids]
        seq = torch.cat([cls[None], tokens])[None]
        seq = visual.ln_pre(seq)
        seq = visual.transformer(seq)  # open_clip's own forward handles its layout
        return F.normalize(visual.ln_post(seq[:, 0]) @ visual.proj, dim=-1)[0]


@pytest.fixture(scope="module")
def images():
    torch.manual_seed(1)
    return torch.randn(3, 3, 64, 64)


def check_windows_match_naive(model: WinCLIP, images, atol=2e-5):
    feats = model.encode(images)
    visual = model.clip.visual
    for scale_pos, size in enumerate(model.scales):
        idx = window_indices(model.grid, size)
        for b in (0, 2):
            for w in (0, 7, idx.shape[0] - 1):
                expected = naive_window_embedding(visual, images[b], idx[w])
                torch.testing.assert_close(feats.windows[scale_pos][b, w], expected, atol=atol, rtol=1e-4)
    return feats


def test_window_embeddings_equal_naive_reference(winclip, images):
    feats = check_windows_match_naive(winclip, images)
    assert [w.shape for w in feats.windows] == [(3, 49, 64), (3, 36, 64)]


def test_window_embeddings_differ_across_windows(winclip, images):
    feats = winclip.encode(images)
    for windows in feats.windows:
        sims = windows[0] @ windows[0].T
        off_diagonal = sims[~torch.eye(sims.shape[0], dtype=torch.bool)]
        assert off_diagonal.max() < 0.9999, "window embeddings collapsed (attention across windows?)"
        assert windows[0].std(dim=0).mean() > 1e-3


def test_image_embedding_equals_encode_image(winclip, images):
    feats = winclip.encode(images)
    with torch.no_grad():
        expected = F.normalize(winclip.clip.encode_image(images), dim=-1)
    torch.testing.assert_close(feats.image, expected, atol=2e-5, rtol=1e-4)


def test_patch_features_are_ln_post_tokens(winclip, images):
    visual = winclip.clip.visual
    with torch.no_grad():
        tokens = visual.transformer(visual._embeds(images))
        expected = F.normalize(visual.ln_post(tokens[:, 1:]), dim=-1)
    torch.testing.assert_close(winclip.encode(images).patches, expected, atol=2e-5, rtol=1e-4)


def test_chunking_does_not_change_results(winclip, images):
    chunked = WindowEncoder(winclip.clip.visual, scales=(2, 3), max_tokens=50)
    with torch.no_grad():
        small = chunked(images)
    full = winclip.encode(images)
    for a, b in zip(small.windows, full.windows, strict=True):
        torch.testing.assert_close(a, b, atol=2e-5, rtol=1e-4)


def test_sequence_first_transformer_gives_same_windows(winclip, images):
    """Pre-2.26 open_clip towers run sequence-first (L, N, D); results must not depend on the layout."""
    clip = copy.deepcopy(winclip.clip)
    old = clip.visual.transformer
    seq_first = Transformer(width=64, layers=len(old.resblocks), heads=2, batch_first=False)
    seq_first.load_state_dict(old.state_dict())
    clip.visual.transformer = seq_first
    model = WinCLIP(clip, winclip.tokenizer)
    check_windows_match_naive(model, images)
    for a, b in zip(model.encode(images).windows, winclip.encode(images).windows, strict=True):
        torch.testing.assert_close(a, b, atol=2e-5, rtol=1e-4)


def test_custom_blocks_fall_back_to_their_own_forward(images):
    torch.manual_seed(0)
    clip = open_clip.create_model(TINY_MODEL_NAME, pretrained=None)
    custom = Transformer(width=64, layers=2, heads=2, qk_norm=True)
    clip.visual.transformer = custom
    model = WinCLIP(clip, open_clip.get_tokenizer(TINY_MODEL_NAME))
    assert not any(block.fused for block in model.encoder._blocks)
    check_windows_match_naive(model, images)


def test_non_vit_backbone_is_refused():
    clip = open_clip.create_model("RN50", pretrained=None)
    with pytest.raises(UnsupportedBackboneError, match="VisionTransformer"):
        WinCLIP(clip, open_clip.get_tokenizer("RN50"))
