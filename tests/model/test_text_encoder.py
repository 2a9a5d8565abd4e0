"""Truncated text encoding equals open_clip's full-length ``encode_text`` for every tower it truncates."""

from __future__ import annotations

import copy

import open_clip
import pytest
import torch
import torch.nn.functional as F
from open_clip.coca_model import CoCa
from open_clip.model import CLIP, CustomTextCLIP

from winclip_lit.model import load_backbone
from winclip_lit.model.prompts import ANOMALOUS_STATES, NORMAL_STATES, TEMPLATES, compose_prompts
from winclip_lit.model.text_encoder import TextEncoder

TOKENIZER = open_clip.get_tokenizer("ViT-B-16")
EOT = TOKENIZER.eot_token_id
PHOTO = TOKENIZER.encode("photo")[0]  # an "eos" id other than end-of-text: pooling reads its first position
PAPER_SENTENCES = compose_prompts("metal nut", NORMAL_STATES + ANOMALOUS_STATES, TEMPLATES)
VISION = {"image_size": 32, "layers": 1, "width": 32, "head_width": 16, "patch_size": 16}


def _text_cfg(**options) -> dict:
    return {"context_length": 77, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 2, **options}


def _model(kind: type, **text_options) -> torch.nn.Module:
    torch.manual_seed(0)
    return kind(embed_dim=24, vision_cfg=VISION, text_cfg=_text_cfg(**text_options)).eval()


def _longest(sentences: list[str]) -> int:
    """Tokens of the longest sentence with its start and end tokens, counted by the BPE encoder itself."""
    return max(len(TOKENIZER.encode(s)) for s in sentences) + 2


def _pooled_length(sentences: list[str], pool_type: str, eos_id: int | None) -> int:
    """Positions up to the last one that open_clip's pooling reads, counted from the BPE ids of each sentence."""
    if pool_type == "first":
        return 1
    positions = []
    for sentence in sentences:
        ids = [TOKENIZER.sot_token_id, *TOKENIZER.encode(sentence), EOT]
        positions.append(ids.index(eos_id) if pool_type == "eos" and eos_id in ids else len(ids) - 1)
    return max(positions) + 1


def _relative_error(actual: torch.Tensor, expected: torch.Tensor) -> float:
    """Largest ``|a - e| / |e|`` over the embeddings (rows), and the largest component difference of the
    L2-normalised embeddings (what WinCLIP averages), whichever is larger."""
    rows = torch.linalg.vector_norm(actual - expected, dim=-1) / torch.linalg.vector_norm(expected, dim=-1)
    unit = F.normalize(actual, dim=-1) - F.normalize(expected, dim=-1)
    return max(float(rows.max()), float(unit.abs().max()))


@pytest.fixture(scope="module")
def tiny_clip() -> torch.nn.Module:
    torch.manual_seed(0)
    return load_backbone("winclip-tiny-vit", None).model


def test_paper_prompts_are_encoded_to_the_longest_sentence_and_match_full_length(tiny_clip):
    tokens = TOKENIZER(PAPER_SENTENCES)
    encoder = TextEncoder(tiny_clip)
    assert encoder.truncates and encoder.fallback_reason == ""
    assert encoder.sequence_length(tokens) == _longest(PAPER_SENTENCES) < 77
    with torch.no_grad():
        expected = tiny_clip.encode_text(tokens)
    assert _relative_error(encoder(tokens), expected) < 1e-6


def test_float64_truncation_is_exact_to_rounding(tiny_clip):
    model = copy.deepcopy(tiny_clip).double()
    tokens = TOKENIZER(["a photo of a bottle.", "a jpeg corrupted photo of the bottle without defect.", "x"])
    with torch.no_grad():
        expected = model.encode_text(tokens)
    actual = TextEncoder(model)(tokens)
    assert actual.dtype == torch.float64
    assert _relative_error(actual, expected) < 1e-12


def test_positions_after_the_longest_sentence_are_never_read(tiny_clip):
    sentences = ["a bottle.", "a photo of a small bottle."]
    tokens = TOKENIZER(sentences)
    with torch.no_grad():
        expected = tiny_clip.encode_text(tokens)
    length = _longest(sentences)
    poisoned = tokens.clone()
    poisoned[:, length:] = -1  # no such token (and below the end-of-text id): a lookup there raises
    with pytest.raises(IndexError):
        tiny_clip.encode_text(poisoned)
    assert _relative_error(TextEncoder(tiny_clip)(poisoned), expected) < 1e-6


@pytest.mark.parametrize(
    ("kind", "options"),
    [
        (CLIP, {}),
        (CLIP, {"pool_type": "eos", "eos_id": EOT}),
        (CLIP, {"qk_norm": True, "proj_bias": True}),
        (CustomTextCLIP, {}),
        (CustomTextCLIP, {"pool_type": "eos", "eos_id": EOT}),
        (CustomTextCLIP, {"pool_type": "eos", "eos_id": PHOTO}),
        (CustomTextCLIP, {"pool_type": "first"}),
        (CustomTextCLIP, {"scale_attn": True, "scale_fc": True, "proj_type": "none"}),
    ],
)
def test_truncated_towers_match_full_length(kind, options):
    model = _model(kind, **options)
    sentences = [
        *PAPER_SENTENCES[:30:3],
        "metal nut",
        "a photo of the large metal nut for anomaly detection.",
    ]
    tokens = TOKENIZER(sentences)
    encoder = TextEncoder(model)
    assert encoder.truncates, encoder.fallback_reason
    length = _pooled_length(sentences, options.get("pool_type", "argmax"), options.get("eos_id"))
    assert encoder.sequence_length(tokens) == length
    with torch.no_grad():
        expected = model.encode_text(tokens)
    assert _relative_error(encoder(tokens), expected) < 1e-6


class _DoubledText(CLIP):
    def encode_text(self, text, normalize: bool = False):
        return 2 * super().encode_text(text, normalize)


@pytest.mark.parametrize(
    ("kind", "options", "reason"),
    [
        (CLIP, {"pool_type": "last"}, "pool type 'last'"),
        (CustomTextCLIP, {"pool_type": "last"}, "pool type 'last'"),
        (CustomTextCLIP, {"no_causal_mask": True, "pool_type": "argmax"}, "not causal"),
        (_DoubledText, {}, "own encode_text"),
    ],
)
def test_other_towers_run_at_full_length(kind, options, reason):
    model = _model(kind, **options)
    tokens = TOKENIZER(["a bottle.", "a photo of a flawless bottle."])
    encoder = TextEncoder(model)
    assert not encoder.truncates and reason in encoder.fallback_reason
    assert encoder.sequence_length(tokens) == 77
    with torch.no_grad():
        expected = model.encode_text(tokens)
    assert torch.equal(encoder(tokens), expected)


def test_coca_runs_at_full_length():
    torch.manual_seed(0)
    model = CoCa(
        embed_dim=24,
        multimodal_cfg={"width": 32, "heads": 2, "layers": 1, "context_length": 76},
        text_cfg=_text_cfg(embed_cls=True, context_length=76),
        vision_cfg=VISION,
    ).eval()
    encoder = TextEncoder(model)
    assert not encoder.truncates and "own encode_text" in encoder.fallback_reason
    tokens = TOKENIZER(["a bottle.", "a dark photo of a bottle."], context_length=76)
    with torch.no_grad():
        expected = model.encode_text(tokens)
    assert torch.equal(encoder(tokens), expected)


def test_tokens_of_another_length_fall_back_to_encode_text(tiny_clip):
    encoder = TextEncoder(tiny_clip)
    short = TOKENIZER(["a bottle."])[:, :20]
    with pytest.raises(RuntimeError):  # the model's own error, not a silently different result
        tiny_clip.encode_text(short)
    with pytest.raises(RuntimeError):
        encoder(short)


@pytest.mark.slow
def test_paper_backbone_truncation_matches_full_length():
    torch.manual_seed(0)
    model = load_backbone("ViT-B-16-plus-240", None).model
    sentences = [PAPER_SENTENCES[0], PAPER_SENTENCES[-1], "a photo of the small metal nut without damage."]
    tokens = TOKENIZER(sentences)
    encoder = TextEncoder(model)
    assert encoder.truncates and encoder.sequence_length(tokens) == _longest(sentences)
    with torch.no_grad():
        expected = model.encode_text(tokens)
    assert _relative_error(encoder(tokens), expected) < 1e-6
