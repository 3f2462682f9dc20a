"""Help-centre demo world of Northwind Mobile, a fictional telco: KB articles, grounded Q&A, an eval set, chats.

Every value is a pure function of (seed, day). The knowledge base starts from a fixed catalogue and is edited
by a seeded walk from EDIT_EPOCH, so the KB, the Q&A answers and the eval gold answers of a day all quote the
same fact values, and an embedding refresh sees a realistic trickle of changed articles. Chats carry planted
PII and prompt injections with ground-truth flags for the guardrails, and shift topic after the drift onset.
The catalogue and the chat vocabulary are data: configs/datasets/demo/support_catalogue.yaml.
"""

from __future__ import annotations

import functools
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any

import numpy as np
import pandas as pd
from pydantic import Field, StrictBool, StrictFloat, StrictInt, StrictStr, model_validator

from ml_platform.config.base import StrictModel, config_dir, parse, read_yaml
from ml_platform.datasets.common import rng_for
from ml_platform.datasets.scenario import Scenario

SUPPORT_TABLES = ("support_kb", "support_qa", "support_eval", "support_chats")
EDIT_EPOCH = date(2026, 1, 1)
EDIT_PROBABILITY = 1 / 3
MIN_ACTIVE_ARTICLES = 30
PII_RATE = 0.05
INJECTION_RATE = 0.01
TYPO_RATE = 0.15


# -- catalogue -------------------------------------------------------------------------------------------
# The articles and the chat vocabulary are data, checked on load.
CATALOGUE_FILE = "datasets/demo/support_catalogue.yaml"

_Text = Annotated[StrictStr, Field(min_length=1)]
_Share = Annotated[StrictFloat, Field(ge=0, le=1)]


class Fact(StrictModel):
    name: _Text
    value: StrictInt
    unit: _Text
    step: Annotated[StrictInt, Field(gt=0)]
    answer: _Text  # "{}" marks the value
    questions: tuple[_Text, ...] = Field(min_length=2)  # all but the last go to support_qa; the last to support_eval
    eval_questions: tuple[_Text, ...] = ()  # more held-out phrasings: support_eval only, never trained on

    @property
    def bounds(self) -> tuple[int, int]:
        # Edits drift upwards more than downwards, so leave more headroom above the base value.
        return max(self.step, self.value - 2 * self.step), self.value + 4 * self.step


class Article(StrictModel):
    article_id: _Text
    title: _Text
    category: _Text
    body: _Text  # str.format template with one placeholder per fact name
    facts: tuple[Fact, ...] = Field(min_length=1)
    uncovered: _Text  # a related question the body does not answer: the abstain example
    reserve: StrictBool = False  # reserve articles are only published by the edit walk

    @model_validator(mode="after")
    def _body_names_every_fact(self) -> Article:
        placeholders = {field for _, field, _, _ in string.Formatter().parse(self.body) if field is not None}
        names = [f.name for f in self.facts]
        if placeholders != set(names) or len(names) != len(set(names)):
            raise ValueError(f"body placeholders {sorted(placeholders)} must be the fact names {names}, once each")
        return self


class PiiParts(StrictModel):
    first_names: tuple[_Text, ...] = Field(min_length=1)
    last_names: tuple[_Text, ...] = Field(min_length=1)
    email_domains: tuple[_Text, ...] = Field(min_length=1)
    streets: tuple[_Text, ...] = Field(min_length=1)
    street_kinds: tuple[_Text, ...] = Field(min_length=1)


class Catalogue(StrictModel):
    abstain_answer: _Text  # the Q&A and gold answer of a question the articles do not cover
    units: dict[_Text, tuple[StrictStr, StrictStr]]  # unit -> (singular, plural) format of a value
    articles: tuple[Article, ...] = Field(min_length=1)
    off_kb_questions: tuple[_Text, ...] = Field(min_length=1)  # unanswerable eval questions
    category_weights: dict[_Text, _Share]  # chat topics answered by the KB
    base_complaint_share: _Share
    drift_shares: dict[_Text, _Share]  # topics that take over after the drift onset
    template_topics: dict[_Text, tuple[_Text, ...]]  # chat questions of the topics the KB does not answer
    chat_prefixes: tuple[StrictStr, ...] = Field(min_length=1)
    chat_suffixes: tuple[StrictStr, ...] = Field(min_length=1)
    injections: tuple[_Text, ...] = Field(min_length=1)
    pii: PiiParts
    channels: dict[_Text, _Share]  # channel -> share of chats

    @model_validator(mode="after")
    def _references_resolve(self) -> Catalogue:
        problems = []
        if len(self.by_id) != len(self.articles):
            problems.append("article_id values are not unique")
        for article in self.articles:
            if article.category not in self.category_weights:
                problems.append(f"{article.article_id}: category {article.category!r} is not in category_weights")
            problems += [
                f"{article.article_id}/{f.name}: unit {f.unit!r} is not in units"
                for f in article.facts
                if f.unit not in self.units
            ]
        base_categories = {a.category for a in self.articles if not a.reserve}
        if missing := sorted(set(self.category_weights) - base_categories):
            problems.append(f"category_weights {missing} have no base (non-reserve) article")
        topics = {*self.category_weights, *self.template_topics}
        if unknown := sorted(set(self.drift_shares) - topics):
            problems.append(f"drift_shares {unknown} are neither KB categories nor template_topics")
        if "billing_complaint" not in self.template_topics:
            problems.append("template_topics needs billing_complaint (base_complaint_share)")
        if sum(self.drift_shares.values()) >= 1:
            problems.append("drift_shares must sum to less than 1 (the KB categories share the rest)")
        if abs(sum(self.channels.values()) - 1) > 1e-9:
            problems.append("channels shares must sum to 1")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @functools.cached_property
    def by_id(self) -> Mapping[str, Article]:
        return MappingProxyType({a.article_id: a for a in self.articles})

    @functools.cached_property
    def fact_keys(self) -> tuple[str, ...]:
        return tuple(f"{a.article_id}/{f.name}" for a in self.articles for f in a.facts)


def load_catalogue(path: Path | None = None) -> Catalogue:
    """The validated catalogue; a bad file fails with the file, the key path and what is wrong."""
    return _load_catalogue(path or config_dir() / CATALOGUE_FILE)


@functools.cache
def _load_catalogue(path: Path) -> Catalogue:
    return parse(Catalogue, read_yaml(path), path)


def render(value: int, unit: str) -> str:
    """The exact text of a fact value, as the article, the answers and a hallucination check all spell it."""
    singular, plural = load_catalogue().units[unit]
    return (singular if value == 1 else plural).format(value)


def _article(article_id: str) -> Article:
    return load_catalogue().by_id[article_id]


# -- edit walk -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Edit:
    day: date
    kind: str  # "edit" (a fact value changed), "add" (article published) or "retire"
    article_id: str
    fact: str | None = None
    old: str | None = None
    new: str | None = None
    value: int | None = None  # the new raw value of an "edit"

    def as_dict(self) -> dict[str, Any]:
        return {
            "day": self.day.isoformat(),
            "kind": self.kind,
            "article_id": self.article_id,
            "fact": self.fact,
            "old": self.old,
            "new": self.new,
        }


@dataclass(frozen=True)
class _KBState:
    values: Mapping[str, int]  # "kb-0001/price" -> value
    published: Mapping[str, tuple[int, date]]  # every article ever published -> (version, updated_on)
    active: tuple[str, ...]  # sorted ids of the articles live today
    edits: tuple[Edit, ...]  # every edit from EDIT_EPOCH up to the day


def _base_updated_on(index: int) -> date:
    # Spread the base articles over the half-year before the epoch so "updated_on" looks like real history.
    return EDIT_EPOCH - timedelta(days=3 + (index * 37) % 180)


def _pick(items: Sequence[str], u: float) -> str | None:
    return items[int(u * len(items))] if items else None


def _retirable(active: set[str]) -> list[str]:
    """Never shrink below MIN_ACTIVE_ARTICLES and never empty a category, so every chat topic stays covered."""
    if len(active) <= MIN_ACTIVE_ARTICLES:
        return []
    per_category: dict[str, int] = {}
    for aid in active:
        per_category[_article(aid).category] = per_category.get(_article(aid).category, 0) + 1
    return sorted(aid for aid in active if per_category[_article(aid).category] > 1)


def _edit_fact(day: date, values: Mapping[str, int], active: set[str], pick_u: float, up_u: float) -> Edit:
    candidates = [(aid, fact) for aid in sorted(active) for fact in _article(aid).facts]
    aid, fact = candidates[int(pick_u * len(candidates))]
    old = values[f"{aid}/{fact.name}"]
    direction = 1 if up_u < 0.75 else -1  # prices and allowances mostly go up
    lo, hi = fact.bounds
    new = old + direction * fact.step
    if not lo <= new <= hi:
        new = old - direction * fact.step
    return Edit(day, "edit", aid, fact.name, render(old, fact.unit), render(new, fact.unit), new)


def _roll_edit(seed: int, day: date, values: Mapping[str, int], active: set[str]) -> Edit | None:
    # Draw every number up front so the random stream of a day does not depend on the state.
    happens, kind_u, pick_u, up_u = rng_for(seed, "support-edit", day).random(4)
    if happens >= EDIT_PROBABILITY:
        return None
    if kind_u < 0.2 and (added := _pick(sorted(set(load_catalogue().by_id) - active), pick_u)):
        return Edit(day, "add", added)
    if kind_u >= 0.8 and (retired := _pick(_retirable(active), pick_u)):
        return Edit(day, "retire", retired)
    return _edit_fact(day, values, active, pick_u, up_u)


def _apply(edit: Edit, values: dict[str, int], published: dict[str, tuple[int, date]], active: set[str]) -> None:
    if edit.kind == "retire":
        active.discard(edit.article_id)
        return
    if edit.kind == "add":
        active.add(edit.article_id)
    elif edit.value is not None:
        values[f"{edit.article_id}/{edit.fact}"] = edit.value
    version = published.get(edit.article_id, (0, edit.day))[0]
    published[edit.article_id] = (version + 1, edit.day)


# Cached because a backfill asks for many consecutive days and every walk starts at the epoch.
@functools.lru_cache(maxsize=256)
def _kb_state(seed: int, day: date) -> _KBState:
    articles = load_catalogue().articles
    values = {f"{a.article_id}/{f.name}": f.value for a in articles for f in a.facts}
    base = [a for a in articles if not a.reserve]
    published = {a.article_id: (1, _base_updated_on(i)) for i, a in enumerate(base)}
    active = {a.article_id for a in base}
    edits: list[Edit] = []
    for offset in range(max(0, (day - EDIT_EPOCH).days + 1)):
        d = EDIT_EPOCH + timedelta(days=offset)
        edit = _roll_edit(seed, d, values, active)
        if edit is not None:
            _apply(edit, values, published, active)
            edits.append(edit)
    return _KBState(MappingProxyType(values), MappingProxyType(published), tuple(sorted(active)), tuple(edits))


# -- tables ----------------------------------------------------------------------------------------------
_KB_DTYPES = {
    "article_id": "object",
    "title": "object",
    "category": "object",
    "body": "object",
    "version": "int64",
    "updated_on": "object",
}
_QA_DTYPES = {
    "qa_id": "object",
    "article_id": "object",
    "question": "object",
    "answer": "object",
    "answerable": "bool",  # False for the abstain pair of each article (qa_id ending in "-abstain")
}
_EVAL_DTYPES = {
    "question_id": "object",
    "question": "object",
    "gold_answer": "object",
    "article_id": "object",
    "answerable": "bool",
}
_CHAT_DTYPES = {
    "chat_id": "object",
    "ts": "datetime64[ns]",
    "customer_id": "object",
    "channel": "object",
    "question": "object",
    "contains_pii": "bool",
    "contains_injection": "bool",
}


def _frame(rows: list[dict[str, Any]], dtypes: Mapping[str, str]) -> pd.DataFrame:
    """Fixed columns and dtypes even when there are no rows."""
    return pd.DataFrame(rows, columns=list(dtypes)).astype(dict(dtypes))


def _value_text(state: _KBState, article: Article, fact: Fact) -> str:
    return render(state.values[f"{article.article_id}/{fact.name}"], fact.unit)


def _answer(state: _KBState, article: Article, fact: Fact) -> str:
    return fact.answer.format(_value_text(state, article, fact))


def _kb_table(state: _KBState) -> pd.DataFrame:
    rows = []
    for aid in state.active:
        article = _article(aid)
        version, updated_on = state.published[aid]
        body = article.body.format(**{f.name: _value_text(state, article, f) for f in article.facts})
        rows.append(
            {
                "article_id": aid,
                "title": article.title,
                "category": article.category,
                "body": body,
                "version": version,
                "updated_on": updated_on.isoformat(),
            }
        )
    return _frame(rows, _KB_DTYPES)


def _qa_table(state: _KBState) -> pd.DataFrame:
    rows = []
    for aid in state.active:
        article = _article(aid)
        for fact in article.facts:
            answer = _answer(state, article, fact)
            rows += [
                {
                    "qa_id": f"qa-{aid}-{fact.name}-{i}",
                    "article_id": aid,
                    "question": question,
                    "answer": answer,
                    "answerable": True,
                }
                for i, question in enumerate(fact.questions[:-1], start=1)
            ]
        rows.append(
            {
                "qa_id": f"qa-{aid}-abstain",
                "article_id": aid,
                "question": article.uncovered,
                "answer": load_catalogue().abstain_answer,
                "answerable": False,
            }
        )
    return _frame(rows, _QA_DTYPES)


def _cycled(items: Sequence[Any], n: int) -> list[tuple[Any, str]]:
    """n items, wrapping round when asked for more than exist; the suffix keeps repeated ids unique."""
    if not items:
        return []
    return [(items[i % len(items)], f"-r{i // len(items)}" if i >= len(items) else "") for i in range(n)]


@functools.lru_cache(maxsize=16)
def _eval_rank(seed: int) -> Mapping[str, int]:
    # A per-seed order independent of the day keeps the eval set stable while articles come and go.
    keys = load_catalogue().fact_keys
    order = rng_for(seed, "support-eval").permutation(len(keys))
    return MappingProxyType({keys[i]: rank for rank, i in enumerate(order)})


def _held_out(fact: Fact) -> tuple[str, ...]:
    """The phrasings of a fact that are never trained on: the last of `questions`, then `eval_questions`."""
    return (fact.questions[-1], *fact.eval_questions)


def _eval_table(seed: int, state: _KBState, n: int) -> pd.DataFrame:
    """n held-out questions, a third of them about topics the KB does not cover. Each fact's first held-out
    phrasing comes before any second one, so a small table still spans the KB."""
    n_unanswerable = round(n / 3)
    rank = _eval_rank(seed)
    pool = sorted(
        (
            (phrasing, rank[f"{aid}/{fact.name}"], aid, fact, question)
            for aid in state.active
            for fact in _article(aid).facts
            for phrasing, question in enumerate(_held_out(fact))
        ),
        key=lambda item: item[:2],
    )
    rows = [
        {
            "question_id": f"ev-{aid}-{fact.name}{f'-p{phrasing}' if phrasing else ''}{suffix}",
            "question": question,
            "gold_answer": _answer(state, _article(aid), fact),
            "article_id": aid,
            "answerable": True,
        }
        for (phrasing, _, aid, fact, question), suffix in _cycled(pool, n - n_unanswerable)
    ]
    off_kb = load_catalogue().off_kb_questions
    off_order = rng_for(seed, "support-eval-off").permutation(len(off_kb))
    rows += [
        {
            "question_id": f"ev-off-{int(i):02d}{suffix}",
            "question": off_kb[i],
            "gold_answer": load_catalogue().abstain_answer,
            "article_id": None,
            "answerable": False,
        }
        for i, suffix in _cycled(list(off_order), n_unanswerable)
    ]
    return _frame(rows, _EVAL_DTYPES)


# -- chats -----------------------------------------------------------------------------------------------
def _topic_weights(drifted: bool) -> dict[str, float]:
    cat = load_catalogue()
    if not drifted:
        return {**cat.category_weights, "billing_complaint": cat.base_complaint_share}
    scale = (1.0 - sum(cat.drift_shares.values())) / sum(cat.category_weights.values())
    return {**{c: w * scale for c, w in cat.category_weights.items()}, **cat.drift_shares}


def _kb_question(state: _KBState, category: str, rng: np.random.Generator) -> str:
    articles = [aid for aid in state.active if _article(aid).category == category]
    article = _article(articles[rng.integers(len(articles))])
    pool = [q for f in article.facts for q in f.questions] + [article.uncovered]
    return pool[rng.integers(len(pool))]


def _one(items: Sequence[str], rng: np.random.Generator) -> str:
    return items[rng.integers(len(items))]


def _typo(text: str, rng: np.random.Generator) -> str:
    """Swap two inner letters of one word: the cheapest realistic misspelling."""
    words = text.split(" ")
    long_words = [i for i, w in enumerate(words) if len(w) >= 4 and w.isalpha()]
    if not long_words:
        return text
    i = long_words[rng.integers(len(long_words))]
    j = int(rng.integers(1, len(words[i]) - 2))
    w = words[i]
    words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2 :]
    return " ".join(words)


def _casual(question: str, rng: np.random.Generator) -> str:
    cat = load_catalogue()
    prefix = _one(cat.chat_prefixes, rng)
    text = question[0].lower() + question[1:] if prefix or rng.random() < 0.5 else question
    if rng.random() < 0.4:
        text = text.rstrip("?")
    if rng.random() < TYPO_RATE:
        text = _typo(text, rng)
    return f"{prefix}{text}{_one(cat.chat_suffixes, rng)}"


def _append(question: str, sentence: str) -> str:
    return f"{question} {sentence}" if question.endswith(("?", "!", ".")) else f"{question}. {sentence}"


def _luhn_card(rng: np.random.Generator) -> str:
    """A Visa-shaped number that passes the Luhn check, so a validating redactor treats it as real."""
    digits = [4, *rng.integers(0, 10, size=14).tolist()]
    total = 0
    for pos, digit in enumerate(reversed(digits)):
        doubled = digit * 2 if pos % 2 == 0 else digit
        total += doubled - 9 if doubled > 9 else doubled
    digits.append((10 - total % 10) % 10)
    text = "".join(map(str, digits))
    return " ".join(text[k : k + 4] for k in range(0, 16, 4))


def _pii_sentence(rng: np.random.Generator) -> str:
    pii = load_catalogue().pii
    kind = int(rng.integers(4))
    if kind == 0:
        first, last, domain = _one(pii.first_names, rng), _one(pii.last_names, rng), _one(pii.email_domains, rng)
        return f"my email is {first}.{last}{rng.integers(1, 100)}@{domain}"
    if kind == 1:
        return f"call me back on ({rng.integers(201, 990)}) 555-{rng.integers(0, 10000):04d}"
    if kind == 2:
        return f"my card number is {_luhn_card(rng)}"
    street = f"{_one(pii.streets, rng)} {_one(pii.street_kinds, rng)}"
    return f"please send it to {rng.integers(1, 1000)} {street}"


def _chat_question(state: _KBState, topic: str, rng: np.random.Generator) -> str:
    templates = load_catalogue().template_topics.get(topic)
    if templates is not None:
        return _casual(templates[rng.integers(len(templates))], rng)
    return _casual(_kb_question(state, topic, rng), rng)


def _chat_table(seed: int, day: date, state: _KBState, drifted: bool, n: int) -> tuple[pd.DataFrame, dict[str, int]]:
    cat = load_catalogue()
    channels, channel_weights = list(cat.channels), list(cat.channels.values())
    rng = rng_for(seed, "support-chats", day)
    weights = _topic_weights(drifted)
    names = list(weights)
    topics = rng.choice(names, size=n, p=np.array(list(weights.values())) / sum(weights.values()))
    n_pii = min(n, max(1, round(n * PII_RATE)))
    n_injection = min(n - n_pii, max(1, round(n * INJECTION_RATE)))
    planted = rng.permutation(n)
    pii_rows, injection_rows = set(planted[:n_pii].tolist()), set(planted[n_pii : n_pii + n_injection].tolist())
    seconds = np.sort(rng.integers(0, 86_400, size=n))
    midnight = pd.Timestamp(day)
    rows = []
    for i, topic in enumerate(topics):
        question = _chat_question(state, str(topic), rng)
        if i in pii_rows:
            question = _append(question, _pii_sentence(rng))
        if i in injection_rows:
            question = _append(question, cat.injections[rng.integers(len(cat.injections))])
        rows.append(
            {
                "chat_id": f"chat-{day:%Y%m%d}-{i:04d}",
                "ts": midnight + pd.Timedelta(seconds=int(seconds[i])),
                "customer_id": f"cust-{rng.integers(0, 20_000):05d}",
                "channel": channels[rng.choice(len(channels), p=channel_weights)],
                "question": question,
                "contains_pii": i in pii_rows,
                "contains_injection": i in injection_rows,
            }
        )
    counts = {name: int((topics == name).sum()) for name in names}
    return _frame(rows, _CHAT_DTYPES), counts


# -- entry point -----------------------------------------------------------------------------------------
def generate_support(
    day: date, seed: int, scenario: Scenario, chats: int = 150, eval_questions: int = 60
) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """The help-centre state of `day`: ({table_name: DataFrame}, json-serialisable metadata).

    Days before EDIT_EPOCH all show the base catalogue. The KB tables depend on (seed, day) only; the
    chat log also on the scenario's drift onset.
    """
    state = _kb_state(int(seed), day)
    drifted = scenario.drifted(day)
    chat_df, topic_counts = _chat_table(int(seed), day, state, drifted, chats)
    tables = {
        "support_kb": _kb_table(state),
        "support_qa": _qa_table(state),
        "support_eval": _eval_table(int(seed), state, eval_questions),
        "support_chats": chat_df,
    }
    metadata = {
        "day": day.isoformat(),
        "seed": int(seed),
        "drifted": drifted,
        "articles": len(state.active),
        "edits_today": [e.as_dict() for e in state.edits if e.day == day],
        "edits_since_epoch": len(state.edits),
        "rows": {name: len(df) for name, df in tables.items()},
        "abstain_pairs": int((~tables["support_qa"]["answerable"]).sum()),
        "unanswerable_eval": int((~tables["support_eval"]["answerable"]).sum()),
        "chat_topics": topic_counts,
        "pii_chats": int(chat_df["contains_pii"].sum()),
        "injection_chats": int(chat_df["contains_injection"].sum()),
    }
    return tables, metadata
