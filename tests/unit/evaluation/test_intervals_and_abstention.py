"""Bootstrap intervals and paired differences; the retrieval-abstention threshold chosen from data."""

from __future__ import annotations

import numpy as np
import pytest

from ml_platform.evaluation.abstention import choose_threshold, rates, split_half
from ml_platform.evaluation.intervals import interval, paired_difference


def test_interval_is_seeded_and_covers_the_mean() -> None:
    values = [1.0] * 30 + [0.0] * 120
    mean, low, high = interval(values, seed=7)
    assert mean == pytest.approx(0.2) and low < 0.2 < high
    assert low > 0.12 and high < 0.28  # about +-0.065 for 150 answers at 20 %
    assert interval(values, seed=7) == (mean, low, high)


def test_interval_of_constant_or_empty_values() -> None:
    assert interval([1.0, 1.0, 1.0], seed=1) == (1.0, 1.0, 1.0)
    assert all(np.isnan(v) for v in interval([], seed=1))


def test_paired_difference_sees_what_two_separate_intervals_cannot() -> None:
    rng = np.random.default_rng(0)
    old = rng.random(150) < 0.5
    new = old.copy()
    new[np.flatnonzero(~old)[:12]] = True  # 12 more right answers, nothing else changed
    mean, low, _ = paired_difference(new.astype(float), old.astype(float), seed=3)
    assert mean == pytest.approx(12 / 150) and low > 0  # credibly better...
    _, _, old_high = interval(old.astype(float), seed=3)
    _, new_low, _ = interval(new.astype(float), seed=3)
    assert new_low < old_high  # ...though the two intervals on their own overlap
    with pytest.raises(ValueError, match="line up"):
        paired_difference([1.0, 0.0], [1.0], seed=3)


def test_threshold_turns_away_at_most_the_allowed_share_of_answerable_questions() -> None:
    answerable = [0.5 + i / 100 for i in range(40)]
    threshold = choose_threshold(answerable, 0.05)
    assert np.mean(np.array(answerable) < threshold) <= 0.05
    assert choose_threshold(answerable, 0.0) == min(answerable)
    result = rates(threshold, answerable, [0.3, 0.4, 0.6])
    assert result["false_abstention_rate"] <= 0.05 and result["abstention_on_unanswerable"] == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="no answerable"):
        choose_threshold([], 0.05)


def test_halves_split_by_question_whatever_the_score() -> None:
    scored = [(f"question {i}", i / 100, i % 3 > 0) for i in range(100)]
    first, second = split_half(scored, 0), split_half(scored, 1)
    assert len(first[0]) + len(second[0]) == sum(a for _, _, a in scored)
    assert 30 < len(first[0]) + len(first[1]) < 70
    moved = [(q, 1 - s, a) for q, s, a in scored]
    assert len(split_half(moved, 0)[0]) == len(first[0])
