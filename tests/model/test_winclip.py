"""End to end on the tiny random model, checked against a naive per-patch loop written here."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from winclip_lit import WinCLIP


@pytest.fixture(scope="module")
def images():
    torch.manual_seed(2)
    return torch.randn(4, 3, 64, 64)


def naive_scores(model: WinCLIP, feats, reference=None):
    """Spec sections 3, 5, 6 by plain loops over patches and windows (numpy, float64)."""
    t = model.text_embeddings.double().numpy()
    tau = model.temperature
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


def test_export_and_load_state_round_trip(winclip, images):
    winclip.set_class_name("pcb1")
    winclip.set_reference_images(images[:2])
    expected = winclip(images)
    state = winclip.export_state()
    winclip.set_class_name("bottle")
    winclip.set_reference_images(None)
    winclip.load_state(state)
    got = winclip(images)
    assert winclip.class_name == "printed circuit board"
    torch.testing.assert_close(got.anomaly_maps, expected.anomaly_maps)
    state["feature_fingerprint"] = "other"
    with pytest.raises(ValueError, match="another backbone"):
        winclip.load_state(state)


def test_association_scores_hand_worked():
    from winclip_lit.model.winclip import association_scores

    memory = torch.tensor([[0.0, 1.0], [-1.0, 0.0]])
    queries = torch.tensor([[[1.0, 0.0], [0.0, 1.0], [-0.6, 0.8], [0.0, -1.0]]])
    # nearest cosines: 0 -> 0.5 ; 1 -> 0 ; max(0.8, 0.6) -> 0.1 ; max(-1, 0) -> 0.5
    expected = torch.tensor([[0.5, 0.0, 0.1, 0.5]])
    torch.testing.assert_close(association_scores(queries, memory), expected)
    # rounding above cos = 1 is clamped to an association of exactly 0
    assert association_scores(torch.tensor([[[1.0000001, 0.0]]]), torch.tensor([[1.0, 0.0]])).item() == 0.0
