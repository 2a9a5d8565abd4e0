"""Every speed path against the plain path, to a stated tolerance."""

import pytest
import torch

from winclip_lit import WinCLIP


@pytest.fixture(scope="module")
def images():
    torch.manual_seed(3)
    return torch.randn(2, 3, 64, 64)


def cosine(a, b):
    return torch.nn.functional.cosine_similarity(a.flatten(1), b.flatten(1), dim=-1)


def test_bf16_autocast_features_close_to_fp32(winclip, images):
    fast = WinCLIP(winclip.clip, winclip.tokenizer, precision="bf16")
    plain, low = winclip.encode(images), fast.encode(images)
    assert low.image.dtype == torch.float32  # features are returned in fp32 whatever the autocast dtype
    # tolerance: bf16 keeps 8 mantissa bits; per-vector cosine to the fp32 features stays above 0.99
    for a, b in zip(
        (plain.image, *plain.windows, plain.patches), (low.image, *low.windows, low.patches), strict=True
    ):
        assert cosine(a.flatten(0, -2), b.flatten(0, -2)).min() > 0.99
    fast.set_class_name("bottle")
    winclip.set_class_name("bottle")
    diff = (fast(images).anomaly_maps - winclip(images).anomaly_maps).abs().max()
    assert diff < 0.02


def test_class_token_only_last_block_equals_full_last_block(tiny_model, images):
    encoder = tiny_model.encoder
    with torch.no_grad():
        tokens = encoder.token_embeddings(images)
        seq = tokens[:, encoder.window_sequences(3)[5]]
        full = encoder.run_blocks(seq)[:, 0]
        cls_only = encoder.run_blocks(seq, cls_only=True)[:, 0]
    torch.testing.assert_close(cls_only, full, atol=1e-5, rtol=1e-5)


@pytest.mark.slow
def test_torch_compile_path_equals_eager(tiny_model, images):
    compiled = WinCLIP(tiny_model.clip, tiny_model.tokenizer, compile=True)
    eager = tiny_model.encode(images)
    got = compiled.encode(images)
    for a, b in zip((eager.image, *eager.windows), (got.image, *got.windows), strict=True):
        torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-4)
