import pytest
import torch

from winclip_lit.model.windows import (
    coverage_matrix,
    harmonic_aggregate,
    harmonic_mean,
    window_indices,
    window_starts,
)


def test_window_indices_on_3x3_grid():
    # grid  0 1 2 / 3 4 5 / 6 7 8 ; 2x2 windows, stride 1
    idx = window_indices((3, 3), 2, 1)
    assert idx.tolist() == [[0, 1, 3, 4], [1, 2, 4, 5], [3, 4, 6, 7], [4, 5, 7, 8]]
    assert window_indices((3, 3), 3, 1).tolist() == [[0, 1, 2, 3, 4, 5, 6, 7, 8]]


def test_paper_window_counts():
    assert window_indices((15, 15), 2).shape == (196, 4)
    assert window_indices((15, 15), 3).shape == (169, 9)


def test_stride_adds_edge_window_so_every_patch_is_covered():
    assert window_starts(5, 2, 2) == [0, 2, 3]
    cover = coverage_matrix(window_indices((5, 5), 2, 2), 25)
    assert (cover.sum(1) > 0).all()
    with pytest.raises(ValueError, match="larger than the patch grid"):
        window_starts(3, 4, 1)


def test_harmonic_aggregation_hand_worked():
    idx = window_indices((3, 3), 2, 1)
    cover = coverage_matrix(idx, 9)
    assert cover.sum(1).tolist() == [1, 2, 1, 2, 4, 2, 1, 2, 1]
    scores = torch.tensor([[0.5, 0.25, 1.0, 0.2]])
    out = harmonic_aggregate(scores, cover)[0]
    # patch 0: window 0 only -> 0.5 ; patch 1: windows 0,1 -> 2 / (2 + 4) ; patch 4: all -> 4 / (2+4+1+5)
    expected = torch.tensor([0.5, 2 / 6, 0.25, 2 / 3, 4 / 12, 2 / 9, 1.0, 2 / 6, 0.2])
    torch.testing.assert_close(out, expected)


def test_harmonic_with_a_zero_is_zero():
    cover = coverage_matrix(window_indices((3, 3), 2, 1), 9)
    out = harmonic_aggregate(torch.tensor([[0.0, 0.5, 0.5, 0.5]]), cover)[0]
    assert out[[0, 1, 3, 4]].tolist() == [0.0, 0.0, 0.0, 0.0]
    torch.testing.assert_close(out[[2, 5, 8]], torch.tensor([0.5, 0.5, 0.5]))
    assert not torch.isnan(out).any()
    torch.testing.assert_close(
        harmonic_mean(torch.tensor([[0.5, 0.0], [0.25, 0.3]])), torch.tensor([1 / 3, 0.0])
    )
