"""Loading backbones: local checkpoints, clear one-line errors, and the paper backbone (slow)."""

import open_clip
import pytest
import torch

from winclip_lit import TINY_MODEL_NAME, UnsupportedBackboneError, WeightsUnavailableError, WinCLIP
from winclip_lit.model import backbones


def test_tiny_model_is_registered_offline():
    assert TINY_MODEL_NAME in open_clip.list_models()


def test_local_checkpoint_file_loads_the_same_weights(tmp_path, winclip):
    path = tmp_path / "tiny.pt"
    torch.save(winclip.clip.state_dict(), path)
    loaded = WinCLIP.from_pretrained(TINY_MODEL_NAME, str(path))
    x = torch.randn(2, 3, 64, 64)
    winclip.set_class_name("bottle")
    loaded.set_class_name("bottle")
    torch.testing.assert_close(loaded(x).anomaly_maps, winclip(x).anomaly_maps)
    assert loaded.feature_fingerprint() == winclip.feature_fingerprint()


def test_unknown_backbone_one_line():
    with pytest.raises(UnsupportedBackboneError, match="Did you mean ViT-B-16-plus-240") as info:
        WinCLIP.from_pretrained("ViT-B-16-plus-24", None)
    assert "\n" not in str(info.value)


def test_unknown_tag_lists_known_tags():
    with pytest.raises(WeightsUnavailableError, match="laion400m_e31") as info:
        WinCLIP.from_pretrained("ViT-B-16-plus-240", "laion5b")
    assert "\n" not in str(info.value)


def test_missing_checkpoint_file():
    with pytest.raises(WeightsUnavailableError, match="does not exist"):
        WinCLIP.from_pretrained(TINY_MODEL_NAME, "/nonexistent/weights.pt")


def test_offline_download_failure_says_how_to_provide_weights(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(WeightsUnavailableError) as info:
        WinCLIP.from_pretrained("ViT-B-16-plus-240", "laion400m_e31", cache_dir=str(tmp_path))
    message = str(info.value)
    assert "\n" not in message
    assert str(tmp_path) in message and "pretrained=/path/to" in message


def test_random_weights_fingerprint_differs_between_models():
    torch.manual_seed(0)
    a = WinCLIP.from_pretrained(TINY_MODEL_NAME, None)
    torch.manual_seed(1)
    b = WinCLIP.from_pretrained(TINY_MODEL_NAME, None)
    assert a.feature_fingerprint() != b.feature_fingerprint()
    c = WinCLIP(a.clip, a.tokenizer, scales=(2,))
    assert c.feature_fingerprint() != a.feature_fingerprint()


@pytest.mark.slow
def test_paper_backbone_random_weights_end_to_end():
    torch.manual_seed(0)
    model = WinCLIP.from_pretrained("ViT-B-16-plus-240", None)
    assert model.image_size == 240 and model.grid == (15, 15)
    x = torch.randn(1, 3, 240, 240)
    feats = model.encode(x)
    assert [w.shape for w in feats.windows] == [(1, 196, 640), (1, 169, 640)]
    assert feats.patches.shape == (1, 225, 896)
    model.set_class_name("metal_nut")
    out = model.score(feats)
    assert out.anomaly_maps.shape == (1, 240, 240)
    model.set_reference_features(feats)
    out = model.score(feats)
    assert out.few_shot_maps.abs().max() < 1e-4
    sims = feats.windows[0][0] @ feats.windows[0][0].T
    assert sims[~torch.eye(196, dtype=torch.bool)].max() < 0.9999


def test_only_weight_problems_become_weights_unavailable(monkeypatch, tmp_path) -> None:
    """A bug inside open_clip (here an AttributeError) keeps its traceback; a network error is one line."""
    import open_clip

    from winclip_lit.model import backbones

    def broken(*args, **kwargs):
        raise AttributeError("'VisionTransformer' object has no attribute 'grid_size'")

    monkeypatch.setattr(open_clip, "create_model", broken)
    with pytest.raises(AttributeError, match="grid_size"):
        backbones.load_backbone(TINY_MODEL_NAME, None)

    def offline(*args, **kwargs):
        raise OSError("We couldn't connect to 'https://huggingface.co'")

    monkeypatch.setattr(open_clip, "create_model", offline)
    with pytest.raises(WeightsUnavailableError, match="without network"):
        backbones.load_backbone(TINY_MODEL_NAME, None)
    oom = torch.OutOfMemoryError("CUDA out of memory")
    checkpoint = tmp_path / "weights.pt"
    checkpoint.write_bytes(b"x")
    assert not backbones.is_weights_problem(oom, str(checkpoint))
    assert backbones.is_weights_problem(
        RuntimeError("PytorchStreamReader failed reading zip archive"), str(checkpoint)
    )


def test_a_local_checkpoint_loads_exactly_without_random_init(tmp_path) -> None:
    """Skipping torch.nn.init while building is safe: every weight comes from the checkpoint."""
    from winclip_lit.model.backbones import load_backbone

    torch.manual_seed(3)
    reference = open_clip.create_model(TINY_MODEL_NAME, pretrained=None)
    path = tmp_path / "tiny.pt"
    torch.save(reference.state_dict(), path)
    loaded = load_backbone(TINY_MODEL_NAME, str(path)).model
    for (name, a), (_, b) in zip(reference.state_dict().items(), loaded.state_dict().items(), strict=True):
        assert torch.equal(a, b), name
    assert torch.nn.init.normal_(torch.zeros(3)).abs().sum() > 0  # init is restored afterwards


def test_the_tiny_model_needs_no_tag():
    """The default ``pretrained`` means the paper's tag only for the paper's model: the tiny ViT has none."""
    torch.manual_seed(0)
    model = WinCLIP.from_pretrained(TINY_MODEL_NAME)
    assert model.image_size == 64
    assert backbones.resolve_pretrained("ViT-B-16-plus-240", backbones.AUTO_PRETRAINED) == "laion400m_e31"
    assert backbones.resolve_pretrained(TINY_MODEL_NAME, backbones.AUTO_PRETRAINED) is None
    assert backbones.resolve_pretrained("ViT-B-16", "openai") == "openai"
    with pytest.raises(WeightsUnavailableError, match="choose one: .*openai"):
        backbones.resolve_pretrained("ViT-B-16", backbones.AUTO_PRETRAINED)


def test_an_unreachable_hub_forces_offline_mode_only_while_loading(monkeypatch):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "ENDPOINT", "http://127.0.0.1:9")  # a closed port stands for no network
    for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    assert not backbones.hub_reachable(timeout=2)
    with backbones.offline_unless_reachable("laion400m_e31") as forced:
        assert forced and constants.HF_HUB_OFFLINE
    assert constants.HF_HUB_OFFLINE is False
    with backbones.offline_unless_reachable(None) as forced:  # random weights download nothing
        assert not forced
