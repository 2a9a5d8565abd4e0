"""Conformal, F1 and realised-rate thresholds: the guarantee by simulation, hand-worked quantiles,
the refusal, brute force over candidate thresholds and sklearn's confusion matrix."""

import math

import numpy as np
import pytest
import torch
from sklearn.metrics import confusion_matrix, f1_score

from winclip_lit.config.errors import ConfigError
from winclip_lit.metrics import conformal_threshold, f1_threshold, rates_at
from winclip_lit.metrics.thresholds import conformal_rank, min_calibration

DRAWS = 2000


def simulate(alpha: float, n: int, rounding: float | None = None, seed: int = 0) -> tuple[np.ndarray, ...]:
    """Per draw: n calibration and 500 test scores of one distribution; the conformal threshold, the
    false-alarm rate it realises and the one the k-th smallest score itself would realise."""
    rng = np.random.default_rng(seed)
    calibration, test = rng.normal(size=(DRAWS, n)), rng.normal(size=(DRAWS, 500))
    if rounding is not None:  # discrete scores: many ties
        calibration, test = np.round(calibration / rounding) * rounding, np.round(test / rounding) * rounding
    realised, at_quantile = np.empty(DRAWS), np.empty(DRAWS)
    k = math.ceil((n + 1) * (1 - alpha) - 1e-9)
    for i in range(DRAWS):
        threshold = conformal_threshold(torch.from_numpy(calibration[i]), alpha)
        realised[i] = np.mean(test[i] >= threshold)
        at_quantile[i] = np.mean(test[i] >= np.sort(calibration[i])[k - 1])
    return realised, at_quantile


@pytest.mark.parametrize(("alpha", "n"), [(0.1, 19), (0.05, 30), (0.01, 150)])
def test_conformal_false_alarm_rate_stays_within_its_bounds(alpha: float, n: int) -> None:
    realised, _ = simulate(alpha, n)
    mean, error = realised.mean(), 4 * realised.std(ddof=1) / math.sqrt(DRAWS)  # Monte-Carlo error
    assert alpha - 1 / (n + 1) - error <= mean <= alpha + error
    k = math.ceil((n + 1) * (1 - alpha) - 1e-9)
    assert mean == pytest.approx(1 - k / (n + 1), abs=error)  # exchangeable continuous scores: exact


def test_conformal_guarantee_holds_with_ties() -> None:
    """Scores on a grid of 0.5: "score >= threshold" must mean "score > quantile" to keep the bound."""
    alpha, n = 0.1, 19
    realised, at_quantile = simulate(alpha, n, rounding=0.5)
    error = 4 * realised.std(ddof=1) / math.sqrt(DRAWS)
    assert realised.mean() <= alpha + error
    assert at_quantile.mean() > alpha + 0.03  # about 0.15: flagging the quantile's ties too would break it


def test_conformal_quantiles_by_hand() -> None:
    shuffled = torch.randperm(100, generator=torch.Generator().manual_seed(0)).double() + 1  # 1 ... 100
    # n = 99, alpha = 0.01: k = ceil(100 x 0.99) = 99, the largest; n = 100: k = ceil(99.99) = 100.
    assert conformal_threshold(shuffled[shuffled <= 99], 0.01) == np.nextafter(99.0, np.inf)
    assert conformal_threshold(shuffled, 0.01) == np.nextafter(100.0, np.inf)
    # n = 9, alpha = 0.3: k = ceil(10 x 0.7) = 7 exactly (0.3's binary value would give 8).
    nine = torch.arange(1, 10, dtype=torch.float32)
    threshold = conformal_threshold(nine.flip(0), 0.3)
    assert threshold == float(np.nextafter(np.float32(7), np.float32(np.inf)))
    assert rates_at(nine, torch.zeros(9), threshold).fpr == 2 / 9  # 8 and 9 flagged, 7 not
    assert [conformal_rank(9, a) for a in (0.1, 0.2, 0.3, 0.5)] == [9, 8, 7, 5]
    assert min_calibration(0.01) == 99 and min_calibration(0.3) == 3


def test_conformal_refuses_too_few_calibration_images_in_one_line() -> None:
    with pytest.raises(ConfigError) as error:
        conformal_threshold(torch.rand(98), 0.01)
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith("threshold.num_calibration=98 is too small for threshold.alpha=0.01")
    assert "at least 99 normal calibration images" in message
    conformal_threshold(torch.rand(99), 0.01)  # 99 + 1 = 1/alpha: allowed
    with pytest.raises(ConfigError, match="threshold.alpha=1.5: a false-alarm rate in \\(0, 1\\)"):
        conformal_threshold(torch.rand(99), 1.5)


def brute_force_f1_threshold(scores: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """Every distinct score as a threshold, highest first; the first best F1 (sklearn's f1_score) wins."""
    best, best_t = -1.0, math.nan
    for t in np.unique(scores)[::-1]:
        f1 = f1_score(labels, (scores >= t).astype(int), zero_division=0.0)
        if f1 > best + 1e-12:
            best, best_t = f1, t
    return best_t, best


@pytest.mark.parametrize("seed", range(5))
def test_f1_threshold_equals_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(20, 200))
    labels = (rng.random(n) < 0.3).astype(np.int64)
    labels[0] = 1
    scores = rng.normal(size=n) + 1.2 * labels
    if seed % 2:
        scores = np.round(scores, 1)  # ties, also between the classes
    expected, best = brute_force_f1_threshold(scores, labels)
    got = f1_threshold(torch.from_numpy(scores), torch.from_numpy(labels))
    assert got == expected
    assert f1_score(labels, (scores >= got).astype(int)) == pytest.approx(best, abs=1e-12)


def test_f1_threshold_by_hand_and_its_refusal() -> None:
    scores = torch.tensor([0.1, 0.2, 0.6, 0.7, 0.9, 0.8])
    labels = torch.tensor([0, 0, 0, 1, 1, 1])
    assert f1_threshold(scores, labels) == pytest.approx(0.7)  # all three caught, no false alarm
    # F1 = 2TP / (TP + FP + P) with P = 3: 2/4 at 0.9, 4/8 at 0.7, 6/12 at 0.1; the highest one wins.
    tie = torch.tensor([0.9, 0.8, 0.8, 0.8, 0.7, 0.4, 0.3, 0.2, 0.1])
    assert f1_threshold(tie, torch.tensor([1, 0, 0, 0, 1, 0, 0, 0, 1])) == pytest.approx(0.9)
    with pytest.raises(ConfigError, match="threshold=f1 needs at least one defective image"):
        f1_threshold(torch.rand(5), torch.zeros(5))


@pytest.mark.parametrize("shape", [(40,), (6, 9, 7)])
def test_rates_at_equal_sklearn_confusion_matrix(shape: tuple[int, ...]) -> None:
    generator = torch.Generator().manual_seed(1)
    scores = torch.round(torch.rand(shape, generator=generator) * 20) / 20  # ties with the threshold
    labels = (torch.rand(shape, generator=generator) < 0.4).to(torch.uint8)
    threshold = 0.5
    tn, fp, fn, tp = confusion_matrix(
        labels.ravel(), (scores >= threshold).ravel().int(), labels=[0, 1]
    ).ravel()
    got = rates_at(scores, labels, threshold)
    assert got.fpr == fp / (fp + tn) and got.tpr == tp / (tp + fn)


def test_rates_at_is_nan_for_a_missing_class() -> None:
    got = rates_at(torch.tensor([0.2, 0.8]), torch.tensor([0, 0]), 0.5)
    assert got.fpr == 0.5 and math.isnan(got.tpr)
