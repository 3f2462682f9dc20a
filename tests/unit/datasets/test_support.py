"""The help-centre generator: determinism, schemas, grounding of answers, KB edit dynamics, guardrail flags, drift."""

from __future__ import annotations

import itertools
import json
import re
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
import yaml

from ml_platform.config.base import config_dir
from ml_platform.datasets import support
from ml_platform.datasets.scenario import Scenario
from ml_platform.datasets.support import SUPPORT_TABLES, generate_support, load_catalogue

ABSTAIN_ANSWER = load_catalogue().abstain_answer

SEED = 7
DAY = date(2026, 3, 10)

COLUMNS = {
    "support_kb": {
        "article_id": "str",
        "title": "str",
        "category": "str",
        "body": "str",
        "version": "int64",
        "updated_on": "str",
    },
    "support_qa": {"qa_id": "str", "article_id": "str", "question": "str", "answer": "str", "answerable": "bool"},
    "support_eval": {
        "question_id": "str",
        "question": "str",
        "gold_answer": "str",
        "article_id": "str?",
        "answerable": "bool",
    },
    "support_chats": {
        "chat_id": "str",
        "ts": "datetime64[ns]",
        "customer_id": "str",
        "channel": "str",
        "question": "str",
        "contains_pii": "bool",
        "contains_injection": "bool",
    },
}
ID_COLUMNS = {
    "support_kb": "article_id",
    "support_qa": "qa_id",
    "support_eval": "question_id",
    "support_chats": "chat_id",
}

PII_PATTERNS = (
    re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),
    re.compile(r"\(?\b\d{3}\)?[ .-]?\d{3}[ .-]\d{4}\b"),
    re.compile(r"\b(?:\d{4}[ -]?){3}\d{4}\b"),
    re.compile(r"\b\d{1,5} [A-Z][a-z]+ (?:Street|Avenue|Road|Lane|St|Ave|Rd)\b"),
)
INJECTION_PATTERN = re.compile(
    r"ignore (?:all )?previous instructions|disregard your rules|developer mode|system prompt", re.IGNORECASE
)
# Every number a hallucination check would look at: prices, amounts with units, percentages.
NUMBER = re.compile(r"\$?\d[\d,]*(?:\.\d+)?%?")


def _generate(day: date = DAY, seed: int = SEED, scenario: Scenario | None = None, **sizes: int):
    return generate_support(day, seed, scenario or Scenario(), **sizes)


def _mentions(text: str, value: str) -> bool:
    """Whole-value match, so "$5" is not found inside "$55"."""
    return re.search(re.escape(value) + r"(?![\d,.]\d)(?!\d)", text) is not None


def _has_pii(text: str) -> bool:
    return any(p.search(text) for p in PII_PATTERNS)


def _articles(kb: pd.DataFrame) -> dict[str, tuple[int, str]]:
    return {row.article_id: (row.version, row.body) for row in kb.itertuples()}


def _changed_articles(before: pd.DataFrame, after: pd.DataFrame) -> set[str]:
    old, new = _articles(before), _articles(after)
    return {aid for aid in old.keys() | new.keys() if old.get(aid) != new.get(aid)}


def _share(chats: pd.DataFrame, word: str) -> float:
    return float(chats["question"].str.contains(word, case=False).mean())


# -- determinism -----------------------------------------------------------------------------------------
def test_same_seed_and_day_give_identical_tables_even_after_other_days_and_a_cold_cache() -> None:
    first, meta = _generate()
    support._kb_state.cache_clear()
    _generate(DAY + timedelta(days=40))
    again, meta_again = _generate()
    assert meta == meta_again
    for name in SUPPORT_TABLES:
        pd.testing.assert_frame_equal(first[name], again[name])


def test_different_seeds_give_different_chats_and_knowledge_bases() -> None:
    day = date(2026, 6, 1)
    a, _ = _generate(day, seed=1)
    b, _ = _generate(day, seed=2)
    assert not a["support_chats"]["question"].equals(b["support_chats"]["question"])
    assert not a["support_kb"].equals(b["support_kb"])


def test_days_before_the_edit_epoch_show_the_base_catalogue() -> None:
    early, meta = _generate(date(2025, 6, 1))
    late, _ = _generate(support.EDIT_EPOCH - timedelta(days=1), seed=SEED + 1)
    pd.testing.assert_frame_equal(early["support_kb"], late["support_kb"])
    assert (early["support_kb"]["version"] == 1).all()
    assert meta["edits_since_epoch"] == 0 and meta["edits_today"] == []


# -- schema ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", SUPPORT_TABLES)
def test_columns_dtypes_and_unique_ids(name: str) -> None:
    df = _generate()[0][name]
    assert list(df.columns) == list(COLUMNS[name])
    for column, kind in COLUMNS[name].items():
        if kind.startswith("str"):
            assert pd.api.types.is_object_dtype(df[column]) or pd.api.types.is_string_dtype(df[column])
            values = df[column].dropna() if kind == "str?" else df[column]
            assert values.map(lambda v: isinstance(v, str) and v != "").all(), column
        else:
            assert str(df[column].dtype) == kind, column
    assert df[ID_COLUMNS[name]].is_unique


def test_table_sizes_follow_the_arguments_and_the_brief() -> None:
    tables, meta = _generate(chats=40, eval_questions=20)
    assert len(tables["support_chats"]) == 40
    assert len(tables["support_eval"]) == 20
    assert 30 <= len(tables["support_kb"]) <= 45
    assert 150 <= len(tables["support_qa"]) <= 300
    assert meta["rows"] == {name: len(df) for name, df in tables.items()}
    json.dumps(meta)


def test_kb_articles_and_dates_are_well_formed() -> None:
    tables, _ = _generate()
    kb = tables["support_kb"]
    assert kb["article_id"].str.fullmatch(r"kb-\d{4}").all()
    assert (pd.to_datetime(kb["updated_on"], format="%Y-%m-%d") <= pd.Timestamp(DAY)).all()
    assert not kb["body"].map(_has_pii).any()
    assert (kb["body"].str.count(r"\. ") >= 2).all()
    assert kb["body"].str.contains(r"\d").all()


def test_chat_timestamps_fall_within_the_day() -> None:
    chats = _generate()[0]["support_chats"]
    assert chats["ts"].dt.normalize().eq(pd.Timestamp(DAY)).all()
    assert chats["ts"].is_monotonic_increasing
    assert set(chats["channel"]) <= {"chat", "email", "app"}


def test_many_eval_questions_still_get_unique_ids() -> None:
    evals = _generate(eval_questions=300)[0]["support_eval"]
    assert len(evals) == 300 and evals["question_id"].is_unique


def test_empty_sizes_keep_the_schema() -> None:
    tables, _ = _generate(chats=0, eval_questions=0)
    for name in ("support_chats", "support_eval"):
        assert tables[name].empty and list(tables[name].columns) == list(COLUMNS[name])
    assert str(tables["support_chats"]["ts"].dtype) == "datetime64[ns]"


# -- grounding -------------------------------------------------------------------------------------------
def test_qa_answers_only_state_numbers_found_in_their_article() -> None:
    tables, _ = _generate(date(2027, 5, 1))
    bodies = tables["support_kb"].set_index("article_id")["body"]
    qa = tables["support_qa"]
    answerable = qa[qa["answer"] != ABSTAIN_ANSWER]
    for row in answerable.itertuples():
        numbers = NUMBER.findall(row.answer)
        assert numbers, row.answer
        assert all(_mentions(bodies[row.article_id], n) for n in numbers), (row.answer, row.article_id)


def test_qa_has_several_phrasings_per_fact_and_about_15_percent_abstentions() -> None:
    qa = _generate()[0]["support_qa"]
    abstain = qa["answer"] == ABSTAIN_ANSWER
    assert 0.10 <= abstain.mean() <= 0.20
    assert qa.loc[~abstain].groupby("answer").size().min() >= 3
    assert qa["question"].is_unique


def test_qa_answerable_flag_is_false_exactly_for_the_abstain_pairs() -> None:
    for day in (date(2025, 12, 30), DAY, date(2027, 5, 1)):
        tables, meta = _generate(day)
        qa = tables["support_qa"]
        abstain = qa["qa_id"].str.endswith("-abstain")
        assert qa["answerable"].tolist() == (~abstain).tolist()
        assert (qa.loc[~qa["answerable"], "answer"] == ABSTAIN_ANSWER).all()
        assert (qa.loc[qa["answerable"], "answer"] != ABSTAIN_ANSWER).all()
        assert meta["abstain_pairs"] == int((~qa["answerable"]).sum()) == len(tables["support_kb"])


def test_eval_is_held_out_and_unanswerables_point_nowhere() -> None:
    tables, _ = _generate()
    evals, qa = tables["support_eval"], tables["support_qa"]
    bodies = tables["support_kb"].set_index("article_id")["body"]
    answerable = evals[evals["answerable"]]
    unanswerable = evals[~evals["answerable"]]
    assert len(unanswerable) == round(len(evals) / 3)
    assert not set(answerable["question"].str.lower()) & set(qa["question"].str.lower())
    assert unanswerable["article_id"].isna().all()
    assert (unanswerable["gold_answer"] == ABSTAIN_ANSWER).all()
    assert answerable["article_id"].isin(bodies.index).all()
    for row in answerable.itertuples():
        assert row.gold_answer in set(qa.loc[qa["article_id"] == row.article_id, "answer"])
        assert all(_mentions(bodies[row.article_id], n) for n in NUMBER.findall(row.gold_answer))


# -- KB dynamics -----------------------------------------------------------------------------------------
def test_edits_trickle_in_one_article_at_a_time() -> None:
    days = [date(2026, 2, 1) + timedelta(days=i) for i in range(31)]
    generated = [_generate(d) for d in days]
    changes = [
        _changed_articles(before[0]["support_kb"], after[0]["support_kb"])
        for before, after in itertools.pairwise(generated)
    ]
    assert sum(bool(c) for c in changes) >= 4
    assert sum(not c for c in changes) >= len(changes) // 2
    assert all(len(c) <= 2 for c in changes)
    for (_, meta), changed in zip(generated[1:], changes, strict=True):
        assert {e["article_id"] for e in meta["edits_today"]} == changed


def test_article_count_stays_in_range_over_two_years() -> None:
    for offset in range(0, 730, 30):
        _, meta = _generate(support.EDIT_EPOCH + timedelta(days=offset))
        assert 30 <= meta["articles"] <= 45


def _first_price_edit() -> tuple[date, dict]:
    for offset in range(365):
        day = support.EDIT_EPOCH + timedelta(days=offset)
        for edit in _generate(day)[1]["edits_today"]:
            if edit["kind"] == "edit" and edit["old"].startswith("$"):
                return day, edit
    raise AssertionError("no price edit in a year")


def test_a_price_edit_reaches_kb_body_qa_answers_and_version() -> None:
    day, edit = _first_price_edit()
    before, _ = _generate(day - timedelta(days=1))
    after, _ = _generate(day)
    aid, old, new = edit["article_id"], edit["old"], edit["new"]

    def article(tables: dict) -> pd.Series:
        return tables["support_kb"].set_index("article_id").loc[aid]

    def answers(tables: dict) -> pd.Series:
        qa = tables["support_qa"]
        return qa.loc[qa["qa_id"].str.startswith(f"qa-{aid}-{edit['fact']}-"), "answer"]

    assert _mentions(article(after)["body"], new)
    assert article(after)["version"] == article(before)["version"] + 1
    assert article(after)["updated_on"] == day.isoformat()
    assert len(answers(after)) >= 3
    assert all(_mentions(a, new) and not _mentions(a, old) for a in answers(after))
    assert all(_mentions(a, old) for a in answers(before))


def test_late_day_generates_fast() -> None:
    support._kb_state.cache_clear()
    start = time.perf_counter()
    _generate(date(2027, 11, 30))
    assert time.perf_counter() - start < 1.0


# -- guardrail ground truth ------------------------------------------------------------------------------
def test_pii_and_injection_flags_match_the_text() -> None:
    chats = pd.concat([_generate(DAY + timedelta(days=i))[0]["support_chats"] for i in range(5)])
    assert chats["question"].map(_has_pii).tolist() == chats["contains_pii"].tolist()
    assert chats["question"].str.contains(INJECTION_PATTERN).tolist() == chats["contains_injection"].tolist()
    assert 0.03 <= chats["contains_pii"].mean() <= 0.07
    assert 0.005 <= chats["contains_injection"].mean() <= 0.02


# -- drift -----------------------------------------------------------------------------------------------
def _topic_shares(scenario: Scenario, days: list[date]) -> pd.Series:
    counts = pd.Series(dtype="float64")
    for day in days:
        counts = counts.add(pd.Series(_generate(day, scenario=scenario)[1]["chat_topics"]), fill_value=0)
    return counts / counts.sum()


def _total_variation(a: pd.Series, b: pd.Series) -> float:
    return float(a.sub(b, fill_value=0).abs().sum() / 2)


def test_drift_shifts_chat_topics_only_after_onset() -> None:
    onset = date(2026, 4, 1)
    drifting = Scenario(drift_onset=onset)
    pre = [onset - timedelta(days=i) for i in (3, 2, 1)]
    post = [onset + timedelta(days=i) for i in (0, 1, 2)]
    assert _total_variation(_topic_shares(drifting, pre), _topic_shares(drifting, post)) > 0.4
    assert _total_variation(_topic_shares(Scenario(), pre), _topic_shares(Scenario(), post)) < 0.2

    before = _generate(onset - timedelta(days=1), scenario=drifting)[0]["support_chats"]
    after = _generate(onset, scenario=drifting)[0]["support_chats"]
    assert _share(before, "satellite") == 0.0
    assert _share(after, "satellite") > 0.15


def test_onset_does_not_touch_earlier_days_or_the_kb() -> None:
    onset = date(2026, 4, 1)
    for day in (onset - timedelta(days=1), onset + timedelta(days=1)):
        plain, _ = _generate(day)
        drifting, meta = _generate(day, scenario=Scenario(drift_onset=onset))
        assert meta["drifted"] is (day >= onset)
        for name in ("support_kb", "support_qa", "support_eval"):
            pd.testing.assert_frame_equal(plain[name], drifting[name])
    pd.testing.assert_frame_equal(
        _generate(onset - timedelta(days=1))[0]["support_chats"],
        _generate(onset - timedelta(days=1), scenario=Scenario(drift_onset=onset))[0]["support_chats"],
    )


# -- catalogue file --------------------------------------------------------------------------------------
def _broken_catalogue(tmp_path: Path, break_it: Callable[[dict], object]) -> str:
    """The loader's message for a copy of the shipped catalogue broken by `break_it`; it must name the file."""
    raw = yaml.safe_load((config_dir() / support.CATALOGUE_FILE).read_text())
    break_it(raw)
    path = tmp_path / "broken_catalogue.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    with pytest.raises(ValueError) as excinfo:
        support.load_catalogue(path)
    message = str(excinfo.value)
    assert str(path) in message
    return message


def test_the_shipped_catalogue_loads_and_is_cached() -> None:
    catalogue = support.load_catalogue()
    assert catalogue is support.load_catalogue()
    assert len(catalogue.articles) == len(catalogue.by_id) >= 30
    assert any(a.reserve for a in catalogue.articles)


def test_catalogue_rejects_an_unknown_key_naming_file_and_key(tmp_path: Path) -> None:
    message = _broken_catalogue(tmp_path, lambda raw: raw["articles"][0]["facts"][1].update(valeu=3))
    assert "articles.0.facts.1.valeu" in message
    assert "Extra inputs are not permitted" in message


def test_catalogue_rejects_a_wrong_type_naming_file_and_key(tmp_path: Path) -> None:
    message = _broken_catalogue(tmp_path, lambda raw: raw["articles"][2]["facts"][0].update(value="25"))
    assert "articles.2.facts.0.value" in message
    assert "integer" in message


def test_catalogue_rejects_an_unknown_top_level_key_and_a_wrong_list_type(tmp_path: Path) -> None:
    def break_it(raw: dict) -> None:
        raw["chanels"] = raw.pop("channels")
        raw["pii"]["streets"] = "Maple"

    message = _broken_catalogue(tmp_path, break_it)
    assert "chanels: Extra inputs are not permitted" in message
    assert "channels: Field required" in message
    assert "pii.streets" in message


def test_catalogue_rejects_a_body_that_misses_a_fact(tmp_path: Path) -> None:
    message = _broken_catalogue(tmp_path, lambda raw: raw["articles"][0].update(body="No numbers {price} here."))
    assert "articles.0" in message and "priority" in message
