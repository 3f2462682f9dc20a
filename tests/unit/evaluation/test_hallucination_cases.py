"""The labelled answers of the hallucination detector: a development part (tuned on) and a test part (written
blind to the detector by another author, never tuned on), each scored and reported with its errors."""

from __future__ import annotations

import pytest

from ml_platform.config.assistant import load_assistant_config
from ml_platform.evaluation.hallucination import SPLITS, load_cases, render, score

DETECTOR = load_assistant_config().evaluation.detector
STYLES = {"paraphrase", "number_words", "wrong_attribution", "added_claim", "negation", "contradiction", "partial"}


@pytest.fixture(scope="module")
def cases() -> dict[str, list]:
    return {split: load_cases(split) for split in SPLITS}


def test_the_cases_are_many_varied_balanced_and_kept_apart(cases) -> None:
    assert sum(map(len, cases.values())) >= 300 and len(cases["test"]) >= 100
    for split, items in cases.items():
        assert len({c.id for c in items}) == len(items), split
        assert 0.4 <= sum(c.hallucinated for c in items) / len(items) <= 0.6, split
        assert all(c.context and c.answer for c in items), split
        assert {c.style for c in items} >= STYLES, split
    answers = {split: {(c.context, c.answer) for c in items} for split, items in cases.items()}
    assert not answers["dev"] & answers["test"]  # nothing tuned on is judged again


def test_the_report_gives_scores_with_intervals_per_style_and_every_error(cases) -> None:
    report = score(cases["test"], DETECTOR, "test")
    text = render(report)
    assert "precision" in text and "recall" in text and "ms per answer" in text
    assert set(report["accuracy_by_style"]) >= STYLES
    for error in report["errors"]:
        assert error["id"] in text
    assert report["precision"]["ci95"][0] <= report["precision"]["rate"] <= report["precision"]["ci95"][1]
