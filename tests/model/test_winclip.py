"""End to end on the tiny random model, checked against a naive per-patch loop written here."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from winclip_lit import TINY_MODEL_NAME, WinCLIP
from winclip_lit.model.category_state import convert_legacy_state, is_legacy_state
from winclip_lit.model.errors import IncompatibleStateError


@pytest.fixture(scope="module")
def images():
    torch.manual_seed(2)
    return torch.randn(4, 3, 64, 64)


def naive_scores(model: WinCLIP, feats, reference=None):
    """docs/algorithm.md sections 3, 5, 6 by plain loops over patches and windows (numpy, float64)."""
    t = model.text_embeddings.double().numpy()
    tau = model.options.temperature
    g = model.grid[0]

    def prob(f):
        logits = np.array([f @ t[0], f @ t[1]]) / tau
        e = np.exp(logits - logits.max())
        return e[1] / e.sum()

    def harmonic(values):
        values = np.asarray(values, dtype=np.float64)
        return 0.0 if (values <= 0).any() else len(values) / np.sum(1.0 / values)

    def covering(size, r, c):
        starts = range(g - size + 1)
        return [
            i * len(starts) + j for i in starts for j in starts if i <= r < i + size and j <= c < j + size
        ]

    def assoc(q, memory):
        return max(0.0, float(np.min((1 - memory @ q) / 2)))

    out_img, out_maps = [], []
    for b in range(len(feats)):
        p_img = prob(feats.image[b].double().numpy())
        zs, fs = np.zeros((g, g)), np.zeros((g, g))
        for r in range(g):
            for c in range(g):
                parts, few = [p_img], []
                if reference is not None:
                    mem_p = reference.patches.flatten(0, 1).double().numpy()
                    few.append(assoc(feats.patches[b, r * g + c].double().numpy(), mem_p))
                for s_pos, size in enumerate(model.scales):
                    win = feats.windows[s_pos][b].double().numpy()
                    ids = covering(size, r, c)
                    parts.append(harmonic([prob(win[i]) for i in ids]))
                    if reference is not None:
                        mem = reference.windows[s_pos].flatten(0, 1).double().numpy()
                        few.append(harmonic([assoc(win[i], mem) for i in ids]))
                zs[r, c] = harmonic(parts)
                fs[r, c] = np.mean(few) if few else 0.0
        if reference is None:
            out_img.append(p_img)
            out_maps.append(zs)
        else:
            out_img.append((p_img + fs.max()) / 2)
            out_maps.append((zs + fs) / 2)
    return np.array(out_img), np.stack(out_maps)


def upsample(grid_maps, size):
    x = torch.from_numpy(grid_maps).float()[:, None]
    return F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)[:, 0]


def test_zero_shot_matches_naive_loops(winclip, images):
    winclip.set_class_name("screw")
    feats = winclip.encode(images)
    out = winclip.score(feats)
    img, maps = naive_scores(winclip, feats)
    np.testing.assert_allclose(out.image_scores.numpy(), img, atol=1e-5)
    torch.testing.assert_close(out.anomaly_maps, upsample(maps, 64), atol=1e-5, rtol=1e-4)


def test_few_shot_matches_naive_loops(winclip, images):
    winclip.set_class_name("screw")
    winclip.set_reference_images(images[:2] + 0.3)
    feats = winclip.encode(images)
    out = winclip.score(feats)
    img, maps = naive_scores(winclip, feats, reference=winclip.reference)
    np.testing.assert_allclose(out.image_scores.numpy(), img, atol=1e-5)
    torch.testing.assert_close(out.anomaly_maps, upsample(maps, 64), atol=1e-5, rtol=1e-4)


def test_shapes_ranges_determinism(winclip, images):
    winclip.set_class_name("bottle")
    out = winclip(images)
    assert out.image_scores.shape == (4,) and out.anomaly_maps.shape == (4, 64, 64)
    assert out.image_scores.dtype == torch.float32
    for t in (out.image_scores, out.anomaly_maps):
        assert ((t >= 0) & (t <= 1)).all()
    again = winclip(images)
    assert torch.equal(out.image_scores, again.image_scores)
    assert torch.equal(out.anomaly_maps, again.anomaly_maps)
    assert out.few_shot_maps is None
    assert out.anomaly_maps.std() > 0  # not a constant map


def test_batch_composition_does_not_change_scores(winclip, images):
    winclip.set_class_name("bottle")
    whole = winclip(images)
    single = winclip(images[2:3])
    torch.testing.assert_close(single.anomaly_maps[0], whole.anomaly_maps[2], atol=1e-5, rtol=1e-4)


def test_identical_reference_gives_zero_association(winclip, images):
    winclip.set_class_name("bottle")
    winclip.set_reference_images(images[1:2])
    out = winclip(images)
    assert out.few_shot_maps[1].abs().max() < 1e-5
    assert out.few_shot_maps[0].mean() > 1e-3
    zero = winclip.score(winclip.encode(images[1:2]))
    torch.testing.assert_close(zero.anomaly_maps[0], zero.zero_shot_maps[0] / 2, atol=1e-5, rtol=1e-4)


def test_zero_vs_few_shot_paths(winclip, images):
    winclip.set_class_name("bottle")
    zero = winclip(images)
    winclip.set_reference_images(images[:1])
    few = winclip(images)
    torch.testing.assert_close(few.zero_shot_maps, zero.anomaly_maps)
    assert not torch.allclose(few.anomaly_maps, zero.anomaly_maps)
    winclip.set_reference_images(None)
    torch.testing.assert_close(winclip(images).anomaly_maps, zero.anomaly_maps)


def test_reference_and_test_images_share_the_transform(winclip):
    rng = np.random.default_rng(0)
    pil = Image.fromarray(rng.integers(0, 255, (90, 120, 3), dtype=np.uint8))
    x = winclip.transform(pil)
    # independent: PIL bicubic squash resize, then (x/255 - mean) / std
    resized = np.asarray(pil.resize((64, 64), Image.BICUBIC), dtype=np.float32) / 255.0
    mean, std = np.array(winclip.transform.mean), np.array(winclip.transform.std)
    expected = torch.from_numpy(((resized - mean) / std).transpose(2, 0, 1)).float()
    torch.testing.assert_close(x, expected, atol=2e-2, rtol=0)  # PIL vs antialiased tensor bicubic rounding
    winclip.set_class_name("bottle")
    winclip.set_reference_images(winclip.transform(pil)[None])
    out = winclip(x[None])
    assert out.few_shot_maps.abs().max() < 1e-5


def test_bad_input_shapes_raise_clear_errors(winclip):
    winclip.set_class_name("bottle")
    with pytest.raises(ValueError, match=r"\(N, 3, 64, 64\).*model.transform"):
        winclip(torch.randn(1, 3, 32, 32))
    with pytest.raises(ValueError, match="reference images"):
        winclip.set_reference_images(torch.randn(3, 64, 64))


def test_scoring_before_class_name_is_an_error(winclip, images):
    with pytest.raises(RuntimeError, match="set_class_name"):
        winclip(images)


def test_temperature_and_fusion_options(tiny_model, images):
    clip, tok = tiny_model.clip, tiny_model.tokenizer
    sharp = WinCLIP(clip, tok, temperature=0.01, few_shot_weight=1.0, smoothing_sigma=2.0)
    sharp.set_class_name("bottle")
    sharp.set_reference_images(images[:1])
    out = sharp(images)
    # few_shot_weight=1: the map is the (smoothed) few-shot map alone
    torch.testing.assert_close(out.anomaly_maps, out.few_shot_maps)
    with pytest.raises(ValueError, match="temperature"):
        WinCLIP(clip, tok, temperature=0)


def _fresh_model(seed: int) -> WinCLIP:
    """A tiny model of its own (these tests cast or reload it), random weights drawn with ``seed``."""
    torch.manual_seed(seed)
    return WinCLIP.from_pretrained(TINY_MODEL_NAME, None)


def test_double_casts_the_category_state_and_scores_in_float64(images):
    model = _fresh_model(0)
    model.set_class_name("screw")
    model.set_reference_images(images[:2] + 0.3)
    model.double()
    reference = model.reference
    assert model.text_embeddings.dtype == torch.float64
    for tensor in (reference.image, reference.patches, *reference.windows):
        assert tensor.dtype == torch.float64
    feats = model.encode(images)
    out = model.score(feats)
    assert out.image_scores.dtype == out.anomaly_maps.dtype == torch.float64
    img, maps = naive_scores(model, feats, reference=reference)
    np.testing.assert_allclose(out.image_scores.numpy(), img, rtol=0, atol=1e-12)
    grid = torch.from_numpy(maps)[:, None]
    expected = F.interpolate(grid, size=(64, 64), mode="bilinear", align_corners=False)[:, 0]
    torch.testing.assert_close(out.anomaly_maps, expected, rtol=0, atol=1e-12)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_to_device_moves_the_category_state(images):
    model = _fresh_model(0)
    model.set_class_name("screw")
    model.set_reference_images(images[:2])
    model.to("cuda")
    assert model.text_embeddings.is_cuda and model.reference.patches.is_cuda
    assert all(w.is_cuda for w in model.reference.windows)
    assert model(images.cuda()).image_scores.is_cuda


def test_state_dict_round_trip_into_a_fresh_model(images):
    original = _fresh_model(0)
    original.set_class_name("pcb1")
    original.set_reference_images(images[:2])
    feats = original.encode(images)
    expected_img, expected_maps = naive_scores(original, feats, reference=original.reference)
    before = original(images)
    state = original.state_dict()
    restored = _fresh_model(1)  # other random weights, zero-shot, no category: state_dict brings them all
    restored.load_state_dict(state)
    assert restored.category == "pcb1" and restored.class_name == "printed circuit board"
    assert len(restored.reference) == 2
    after = restored(images)
    np.testing.assert_allclose(after.image_scores.numpy(), expected_img, atol=1e-5)
    torch.testing.assert_close(after.anomaly_maps, upsample(expected_maps, 64), atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(after.anomaly_maps, before.anomaly_maps, atol=0, rtol=0)
    torch.testing.assert_close(after.image_scores, before.image_scores, atol=0, rtol=0)


def test_category_state_loads_between_zero_shot_and_few_shot(winclip, images):
    winclip.set_class_name("pcb1")
    feats = winclip.encode(images)
    expected_zero_shot, _ = naive_scores(winclip, feats)
    zero_shot = {
        k: v.clone() if torch.is_tensor(v) else v for k, v in winclip.category_state.state_dict().items()
    }
    winclip.set_reference_images(images[:2])
    expected_few_shot, _ = naive_scores(winclip, feats, reference=winclip.reference)
    few_shot = {
        k: v.clone() if torch.is_tensor(v) else v for k, v in winclip.category_state.state_dict().items()
    }
    winclip.set_class_name("bottle")
    winclip.set_reference_images(None)
    winclip.category_state.load_state_dict(
        few_shot
    )  # into a zero-shot model: the memory's shapes are adopted
    assert winclip.class_name == "printed circuit board" and len(winclip.reference) == 2
    np.testing.assert_allclose(winclip.score(feats).image_scores.numpy(), expected_few_shot, atol=1e-5)
    winclip.category_state.load_state_dict(zero_shot)  # into a few-shot model: the memory empties
    assert winclip.reference is None
    np.testing.assert_allclose(winclip.score(feats).image_scores.numpy(), expected_zero_shot, atol=1e-5)


def test_loading_a_state_leaves_the_text_cache_and_saved_states_alone(winclip, images):
    cache: dict = {}
    model = WinCLIP(winclip.clip, winclip.tokenizer, text_cache=cache)
    model.set_class_name("pcb1")
    pcb1 = model.category_state.state_dict()
    pcb1_embeddings = pcb1["text_embeddings"].clone()
    model.set_class_name("bottle")
    bottle = {key: value.clone() for key, value in cache.items()}
    model.category_state.load_state_dict(pcb1)
    model.set_reference_images(images[:1])
    model.category_state.load_state_dict({**pcb1, "text_embeddings": torch.zeros(2, 64)})
    assert all(torch.equal(cache[key], value) for key, value in bottle.items())
    assert torch.equal(pcb1["text_embeddings"], pcb1_embeddings)


def test_state_of_other_image_features_is_refused(winclip, images):
    winclip.set_class_name("pcb1")
    winclip.set_reference_images(images[:2])
    state = winclip.category_state.state_dict()
    state["_extra_state"] = {**state["_extra_state"], "feature_fingerprint": "other"}
    with pytest.raises(IncompatibleStateError, match="another backbone"):
        winclip.category_state.load_state_dict(state)
    assert winclip.category is None and winclip.reference is None  # nothing half-loaded is kept


def test_state_of_other_prompts_is_encoded_with_the_model_prompts(winclip, images):
    winclip.set_class_name("pcb1")
    state = winclip.category_state.state_dict()
    torch.manual_seed(1)
    one_template = WinCLIP.from_pretrained(TINY_MODEL_NAME, None, templates=("a photo of {}.",))
    one_template.load_state_dict(winclip.state_dict())
    saved_normal = one_template.category_state.prompts["normal"]
    assert one_template.category == "pcb1" and "a photo of flawless printed circuit board." in saved_normal
    assert len(saved_normal) == len(one_template.options.normal_states)  # one template, not the 22
    own = one_template.text_embeddings.clone()
    one_template.set_class_name("pcb1")
    torch.testing.assert_close(own, one_template.text_embeddings)
    assert not torch.allclose(own, state["text_embeddings"])


def test_legacy_state_converts_to_a_state_dict(winclip, images):
    winclip.set_class_name("pcb1")
    winclip.set_reference_images(images[:2])
    expected = winclip(images).anomaly_maps
    reference, normal_anomalous = winclip.reference, winclip.prompts("pcb1")
    legacy = {  # what export_state() wrote into checkpoints 1 and 2
        "category": "pcb1",
        "class_name": "printed circuit board",
        "text_embeddings": winclip.text_embeddings.clone(),
        "prompts": {
            "normal": normal_anomalous[0],
            "anomalous": normal_anomalous[1],
            "text_average": "normalized",
        },
        "reference": {
            "image": reference.image,
            "windows": list(reference.windows),
            "patches": reference.patches,
        },
        "feature_fingerprint": winclip.feature_fingerprint(),
    }
    assert is_legacy_state(legacy)
    winclip.clear()
    winclip.category_state.load_state_dict(convert_legacy_state(legacy))
    torch.testing.assert_close(winclip(images).anomaly_maps, expected, atol=0, rtol=0)
    zero_shot = convert_legacy_state({**legacy, "reference": None})
    winclip.category_state.load_state_dict(zero_shot)
    assert winclip.reference is None and winclip.category == "pcb1"


def test_association_scores_hand_worked():
    from winclip_lit.model.winclip import association_scores

    memory = torch.tensor([[0.0, 1.0], [-1.0, 0.0]])
    queries = torch.tensor([[[1.0, 0.0], [0.0, 1.0], [-0.6, 0.8], [0.0, -1.0]]])
    # nearest cosines: 0 -> 0.5 ; 1 -> 0 ; max(0.8, 0.6) -> 0.1 ; max(-1, 0) -> 0.5
    expected = torch.tensor([[0.5, 0.0, 0.1, 0.5]])
    torch.testing.assert_close(association_scores(queries, memory), expected)
    # rounding above cos = 1 is clamped to an association of exactly 0
    assert association_scores(torch.tensor([[[1.0000001, 0.0]]]), torch.tensor([[1.0, 0.0]])).item() == 0.0


def test_setting_an_option_attribute_is_refused(winclip):
    """A copy of an option beside ``model.options`` would silently change nothing; it is an error instead."""
    with pytest.raises(AttributeError, match="model.options.temperature"):
        winclip.temperature = 0.01
    assert winclip.options.temperature == 0.07
