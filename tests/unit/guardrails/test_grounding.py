"""Grounding check (the hallucination detector): fact extraction and normalisation, abstentions, verdicts."""

from __future__ import annotations

from datetime import date

import pytest

from ml_platform.config.assistant import load_assistant_config
from ml_platform.datasets.scenario import Scenario
from ml_platform.datasets.support import generate_support, load_catalogue
from ml_platform.guardrails.grounding import Fact, detect_hallucination, extract_facts, is_abstention

ABSTAIN_ANSWER = load_catalogue().abstain_answer

DETECTOR = load_assistant_config().evaluation.detector


def detect(answer: str, context: str):
    return detect_hallucination(answer, context, DETECTOR)


DAY_PASS = (
    "Roaming Day Pass. The Roaming Day Pass lets you use your plan abroad in more than 100 destinations. It costs "
    "$12 per day and is only charged on days when you use your phone abroad. Each day includes 3 GB of high-speed "
    "data, after which speeds are reduced until midnight local time."
)


def values(text: str) -> list[str]:
    return [f.value for f in extract_facts(text)]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("$35", "money:35"),
        ("$1,500.00", "money:1500"),
        ("$1,500", "money:1500"),
        ("$0.45", "money:0.45"),
        ("45 cents", "money:0.45"),
        ("10 cents", "money:0.1"),
        ("twenty dollars", "money:20"),
        ("it is free", "money:0"),
        ("at no extra charge", "money:0"),
    ],
)
def test_money_is_normalised(text: str, value: str) -> None:
    assert values(text) == [value]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("14 days", "duration:14d"),
        ("two weeks", "duration:14d"),
        ("fourteen days", "duration:14d"),
        ("a 14-day window", "duration:14d"),
        ("24 hours", "duration:1d"),
        ("one day", "duration:1d"),
        ("36 hours", "duration:36h"),
        ("15 minutes", "duration:15min"),
        ("24 months", "duration:24mo"),
        ("a two-year contract", "duration:24mo"),
        ("twenty-four months", "duration:24mo"),
        ("within a week", "duration:7d"),
        ("done the same day", "duration:same-day"),
    ],
)
def test_durations_are_normalised(text: str, value: str) -> None:
    assert values(text) == [value]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("20 GB", "data:20gb"),
        ("20GB", "data:20gb"),
        ("20 gigabytes", "data:20gb"),
        ("5 MB", "data:5mb"),
        ("300 Mbps", "data:300mbps"),
        ("15%", "pct:15"),
        ("15 percent", "pct:15"),
        ("fifteen per cent", "pct:15"),
    ],
)
def test_data_sizes_and_percentages_are_normalised(text: str, value: str) -> None:
    assert values(text) == [value]


def test_bare_numbers_and_what_is_not_a_number() -> None:
    assert values("up to 5 lines, or five lines") == ["number:5", "number:5"]
    assert values("5G is on every plan, and one account can have a one-time credit") == []


def test_entities_are_capitalised_names_not_at_sentence_start() -> None:
    facts = extract_facts("Unlimited Plus includes a free Netflix Premium subscription in Canada.")
    assert [f for f in facts if f.kind == "entity"] == [
        Fact("entity", "Plus", "entity:plus"),
        Fact("entity", "Netflix Premium", "entity:netflix premium"),
        Fact("entity", "Canada", "entity:canada"),
    ]


@pytest.mark.parametrize(
    "answer",
    [
        ABSTAIN_ANSWER,
        "I don't know.",
        "I do not know - the articles don't say whether the pass works on cruise ships.",
        "The help-centre articles don't mention that.",
        "Sorry, I couldn't find anything about 5G Home Internet.",
        "That isn't covered in the articles.",
    ],
)
def test_abstentions_never_hallucinate(answer: str) -> None:
    assert is_abstention(answer)
    verdict = detect(answer, DAY_PASS)
    assert verdict.abstained and not verdict.hallucinated


def test_a_hedge_that_states_a_number_is_not_an_abstention() -> None:
    answer = "I'm not sure, but it is probably $20 per day."
    assert not is_abstention(answer)
    assert detect(answer, DAY_PASS).hallucinated


def test_grounded_paraphrase_passes() -> None:
    verdict = detect("It's $12.00 a day and includes 3 gigabytes of high-speed data each day.", DAY_PASS)
    assert not verdict.hallucinated, verdict.reasons


def test_bullet_lists_and_pleasantries_are_not_claims() -> None:
    answer = "Here is what I found:\n- It costs $12 per day.\n- Each day includes 3 GB of data.\nHope this helps!"
    verdict = detect(answer, DAY_PASS)
    assert not verdict.hallucinated, verdict.reasons


@pytest.mark.parametrize(
    ("answer", "kind"),
    [
        ("The Roaming Day Pass costs $15 per day.", "money"),
        ("It includes 5 GB of high-speed data each day.", "data_size"),
        ("It works in more than 150 destinations.", "number"),
        ("The pass lasts 48 hours.", "duration"),
        ("You get 20% off on weekends.", "percentage"),
        ("It is run by our partner Globe Roam Networks.", "entity"),
    ],
)
def test_unsupported_fact_is_flagged(answer: str, kind: str) -> None:
    verdict = detect(answer, DAY_PASS)
    assert verdict.hallucinated
    assert kind in {f.kind for f in verdict.unsupported_facts}
    assert verdict.reasons


def test_unsupported_sentence_is_flagged() -> None:
    answer = "The pass costs $12 per day. Cruise ships and airplanes get satellite coverage too."
    verdict = detect(answer, DAY_PASS)
    assert verdict.hallucinated
    assert verdict.unsupported_sentences == ["Cruise ships and airplanes get satellite coverage too."]


def test_real_qa_answers_are_grounded_in_their_article_and_not_in_another() -> None:
    tables, _ = generate_support(date(2026, 3, 10), 7, Scenario())
    kb = dict(zip(tables["support_kb"]["article_id"], tables["support_kb"]["body"], strict=True))
    ids = sorted(kb)
    qa = tables["support_qa"].drop_duplicates("answer")
    qa = qa[qa["answerable"]]
    own = [detect(a, kb[aid]) for a, aid in zip(qa["answer"], qa["article_id"], strict=True)]
    assert not [v.reasons for v in own if v.hallucinated]
    other = [kb[ids[(ids.index(aid) + 1) % len(ids)]] for aid in qa["article_id"]]
    assert all(detect(a, c).hallucinated for a, c in zip(qa["answer"], other, strict=True))


HOTSPOT = (
    "Hotspot and tethering. You can share your mobile data with laptops and tablets using the hotspot feature. "
    "Essentials and Prepaid Flex include 15 GB of hotspot data per month, while Unlimited Plus includes hotspot use "
    "within its priority data. Up to 10 devices can connect to your hotspot at the same time."
)


def test_a_number_said_of_the_wrong_thing_is_caught_and_a_paraphrase_is_not() -> None:
    swapped = detect("Up to 15 devices can connect to your hotspot at once.", HOTSPOT)
    assert swapped.hallucinated and any("said of something else" in r for r in swapped.reasons)
    for faithful in (
        "Ten devices can share your hotspot at the same time.",
        "On Essentials you get fifteen gigabytes of hotspot data a month.",
    ):
        assert not detect(faithful, HOTSPOT).hallucinated, faithful
    off = DETECTOR.model_copy(update={"attribution_margin": None})
    assert not detect_hallucination("Up to 15 devices can connect to your hotspot at once.", HOTSPOT, off).hallucinated


PREPAID = (
    "Prepaid Flex plan. A top-up costs $25 and gives you unlimited calls and texts plus data for 30 days. "
    "Unused days do not carry over when you top up early."
)


def test_an_answer_that_says_the_opposite_is_caught_and_a_condition_is_not_a_negation() -> None:
    flipped = detect("No worries, your unused days carry over when you top up early.", PREPAID)
    assert flipped.hallucinated and any("says the opposite" in r for r in flipped.reasons)
    assert not detect("Unused days don't carry over if you top up early.", PREPAID).hallucinated
    assert not detect("If you top up early, your unused days do not carry over.", PREPAID).hallucinated
    off = DETECTOR.model_copy(update={"contradiction_similarity": None})
    assert not detect_hallucination("Your unused days carry over when you top up early.", PREPAID, off).hallucinated
