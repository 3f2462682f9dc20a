"""The labelled guardrail cases and the scores they give: the development part (tuned on) and the test part
(written by another author, never tuned on) kept apart, and the targets checked on both."""

from __future__ import annotations

import pytest

from ml_platform.evaluation.guardrail_cases import SPLITS, load_cases, meets_targets, render, score

KINDS = {"pii", "injection", "toxic", "harmless"}


@pytest.fixture(scope="module")
def reports() -> dict[str, dict]:
    return {split: score(split) for split in SPLITS}


def test_the_cases_are_many_varied_and_well_formed() -> None:
    cases = {split: load_cases(split) for split in SPLITS}
    assert sum(map(len, cases.values())) >= 300 and len(cases["test"]) >= 150
    for split, items in cases.items():
        assert {c.kind for c in items} == KINDS, split
        assert len({c.id for c in items}) == len(items), split
        for case in items:
            assert all(item in case.text for item in case.pii), case.id
            assert bool(case.pii) == (case.kind == "pii"), case.id
    texts = {split: {c.text for c in items} for split, items in cases.items()}
    assert not texts["dev"] & texts["test"]  # nothing tuned on is judged again


@pytest.mark.parametrize("split", SPLITS)
def test_pii_and_injection_recall_and_false_positives_meet_their_targets(reports, split: str) -> None:
    report = reports[split]
    assert meets_targets(report), render(report)
    assert report["recall"]["toxic"]["rate"] >= 0.8, render(report)


def test_a_miss_is_reported_with_what_fired(reports) -> None:
    text = render(reports["dev"])
    assert "recall pii" in text and "false positives on harmless text" in text and "s per 1,000 texts" in text
    for miss in reports["dev"]["misses"]:
        assert miss["id"] in text
