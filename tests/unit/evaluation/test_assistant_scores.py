"""Correctness against the gold answer (separate from groundedness), every rate with its interval, paired
comparisons, and the answer cache, on hand-made answers (no model)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ml_platform.config.assistant import load_assistant_config
from ml_platform.evaluation.assistant import RATES, Answer, AnswerCache, compare, is_correct, score
from ml_platform.storage import LocalStore

CONFIG = load_assistant_config()
ABSTAIN = CONFIG.prompt.abstain_answer
GOLD = "Each top-up costs $10."


@pytest.mark.parametrize(
    ("answer", "gold", "answerable", "correct"),
    [
        ("A top-up is $10.", GOLD, True, True),
        ("It costs ten dollars per top-up.", GOLD, True, True),
        ("Top-ups cost 10.", GOLD, True, True),  # a bare number with the gold's magnitude
        ("A top-up costs $15.", GOLD, True, False),
        (
            "You can use 15 GB of hotspot data.",
            "Roaming includes 5 GB per month.",
            True,
            False,
        ),  # grounded, not the answer
        ("Unlimited Plus includes 50 gigabytes of priority data.", "It includes 50 GB of priority data.", True, True),
        ("A top-up lasts two weeks.", "A top-up lasts 14 days.", True, True),
        (ABSTAIN, GOLD, True, False),  # an abstention never answers an answerable question
        (ABSTAIN, ABSTAIN, False, True),
        ("Yes, laptops cost $499.", ABSTAIN, False, False),
    ],
)
def test_correctness_against_the_gold_answer(answer: str, gold: str, answerable: bool, correct: bool) -> None:
    assert is_correct(answer, gold, answerable) is correct


def _answer(qid: str, answerable: bool, raw: str, hallucinated: bool = False, served: str | None = None) -> Answer:
    gold = GOLD if answerable else ABSTAIN
    served = raw if served is None else served
    return Answer(
        question_id=qid,
        question="q",
        gold=gold,
        answerable=answerable,
        hit=answerable,
        top_score=0.7,
        context="c",
        raw=raw,
        served=served,
        guard="answered" if served == raw else "unsupported_replaced",
        hallucinated=hallucinated,
        why="",
        abstained=raw == ABSTAIN,
        correct=is_correct(raw, gold, answerable),
        served_abstained=served == ABSTAIN,
        served_correct=is_correct(served, gold, answerable),
        latency_s=0.5,
        tokens_in=100,
        tokens_out=10,
        cached=False,
    )


def _model(right: int, wrong: int, abstained_unanswerable: int, unanswerable: int) -> list[Answer]:
    answers = [_answer(f"a{i}", True, "It is $10.") for i in range(right)]
    answers += [_answer(f"b{i}", True, "It is $99.", True, served=ABSTAIN) for i in range(wrong)]
    answers += [_answer(f"u{i}", False, ABSTAIN) for i in range(abstained_unanswerable)]
    answers += [_answer(f"v{i}", False, "It is $5.", True) for i in range(unanswerable - abstained_unanswerable)]
    return answers


def test_every_rate_has_an_interval_and_the_guard_is_scored_apart() -> None:
    answers = _model(right=80, wrong=20, abstained_unanswerable=10, unanswerable=50)
    metrics, intervals = score(answers, CONFIG)
    assert set(intervals) == set(RATES)
    assert metrics["correctness"] == pytest.approx(90 / 150, abs=1e-4)
    assert metrics["hallucination_rate"] == pytest.approx(60 / 150, abs=1e-4)
    assert metrics["abstention_accuracy"] == pytest.approx(10 / 50, abs=1e-4)
    assert metrics["false_abstention_rate"] == 0.0 and metrics["served_false_abstention_rate"] == pytest.approx(
        0.2, abs=1e-4
    )
    assert metrics["wrong_answer_rate"] == pytest.approx(60 / 150, abs=1e-4)
    assert metrics["served_wrong_answer_rate"] == pytest.approx(40 / 150, abs=1e-4)
    for name, (low, high) in intervals.items():
        assert low <= metrics[name] <= high, name
    production, only = score(answers, CONFIG, labelled=False)
    assert set(only) == {"hallucination_rate", "abstention_rate", "served_abstention_rate"}
    assert "correctness" not in production


def test_paired_comparison_finds_a_credible_gain() -> None:
    base = _model(right=60, wrong=40, abstained_unanswerable=0, unanswerable=50)
    tuned = [
        replace(a, raw=ABSTAIN, abstained=True, correct=True, hallucinated=False) if a.question_id[0] == "v" else a
        for a in base
    ]
    diff = compare(tuned, base, ["correctness", "hallucination_rate", "false_abstention_rate"], seed=7)
    assert diff["correctness"][1] > 0 and diff["hallucination_rate"][2] < 0
    assert diff["false_abstention_rate"] == [0.0, 0.0, 0.0]
    with pytest.raises(ValueError, match="same questions"):
        compare(tuned[:-1], base[:-1][::-1], ["correctness"], seed=7)


def test_answer_cache_reuses_answers_of_the_same_model_and_keeps_each_run_apart(tmp_path) -> None:
    store = LocalStore(tmp_path)
    first = AnswerCache(store, "modelhash", "2026-03-10-base-aaa")
    first.save({AnswerCache.key("prompt", 40): {"text": "hi", "tokens_in": 3, "tokens_out": 1, "latency_s": 0.1}})
    again = AnswerCache(store, "modelhash", "2026-03-11-base-bbb")
    assert AnswerCache.key("prompt", 40) in again.known
    assert AnswerCache.key("prompt", 41) not in again.known  # other settings, other answer
    assert not AnswerCache(store, "otherhash", "x").known
    assert sorted(store.list("_cache/answers/modelhash/")) == ["_cache/answers/modelhash/2026-03-10-base-aaa.json"]
