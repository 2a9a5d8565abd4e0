import pytest

from winclip_lit.model.prompts import (
    ANOMALOUS_STATES,
    NORMAL_STATES,
    TEMPLATES,
    class_name_for,
    compose_prompts,
)


def test_paper_prompt_counts(winclip):
    normal, anomalous = winclip.prompts("metal_nut")
    assert (len(NORMAL_STATES), len(ANOMALOUS_STATES), len(TEMPLATES)) == (7, 4, 22)
    assert len(normal) == 154 and len(anomalous) == 88
    assert len(set(normal)) == 154 and len(set(anomalous)) == 88
    assert "a photo of a flawless metal nut." in normal
    assert "a photo of the metal nut for anomaly detection." in normal
    assert "a cropped photo of the damaged metal nut." in anomalous
    assert "a jpeg corrupted photo of a metal nut with defect." in anomalous
    assert not set(normal) & set(anomalous)


@pytest.mark.parametrize(
    ("category", "expected"),
    [
        ("metal_nut", "metal nut"),
        ("bottle", "bottle"),
        ("pipe_fryum", "pipe fryum"),
        ("pcb1", "printed circuit board"),
        ("macaroni2", "macaroni"),
        ("chewinggum", "chewing gum"),
    ],
)
def test_class_name_default_rule_and_map(category, expected):
    assert class_name_for(category) == expected


def test_class_name_custom_map_and_fixed():
    assert class_name_for("pcb1", mapping={}) == "pcb1"
    assert class_name_for("screw", mapping={"screw": "metal screw"}) == "metal screw"
    assert class_name_for("screw", fixed="object") == "object"


def test_compose_is_template_major_and_validates():
    assert compose_prompts("x", ["{}", "good {}"], ["a {}.", "the {}!"]) == [
        "a x.",
        "a good x.",
        "the x!",
        "the good x!",
    ]
    with pytest.raises(ValueError, match="placeholder"):
        compose_prompts("x", ["no placeholder"], ["a {}."])


def test_text_embeddings_average_normalised_sentences(winclip):
    import torch
    import torch.nn.functional as F

    winclip.set_class_name("bottle")
    normal, anomalous = winclip.prompts("bottle")
    with torch.no_grad():
        expected = []
        for sentences in (normal, anomalous):
            emb = torch.cat(
                [
                    winclip.clip.encode_text(winclip.tokenizer(sentences[i : i + 22]))
                    for i in range(0, len(sentences), 22)
                ]
            )
            expected.append(F.normalize(F.normalize(emb, dim=-1).mean(0), dim=0))
    torch.testing.assert_close(winclip.text_embeddings, torch.stack(expected), atol=1e-5, rtol=1e-5)
    assert winclip.class_name == "bottle"


def test_text_cache_reuses_embeddings_of_the_same_sentences(tiny_model):
    import torch

    from winclip_lit import WinCLIP

    cache = {}
    first = WinCLIP(tiny_model.clip, tiny_model.tokenizer, text_cache=cache)
    first.set_class_name("bottle")
    assert len(cache) == 1
    key = next(iter(cache))
    cache[key] = torch.zeros_like(cache[key])  # a hit must come from the cache, not a new encoding
    second = WinCLIP(tiny_model.clip, tiny_model.tokenizer, temperature=0.01, text_cache=cache)
    second.set_class_name("bottle")
    assert torch.equal(second.text_embeddings, torch.zeros(2, 64))
    third = WinCLIP(tiny_model.clip, tiny_model.tokenizer, templates=["a photo of a {}."], text_cache=cache)
    third.set_class_name("bottle")
    assert len(cache) == 2 and third.text_embeddings.abs().sum() > 0
