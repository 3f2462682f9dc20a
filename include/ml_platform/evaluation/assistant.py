"""Evaluation of an assistant through the production RAG path: retrieve from the live index, generate, score.

The same questions, retrieval and scoring serve the base model, the champion and the challenger, and the
champion on the day's chats in production, so their numbers sit side by side. Each answer is judged twice:
as the model said it (the bare model) and as the guarded answer path serves it (ml_platform.llm.answering).

Per answer: hallucinated (the grounding check against its context), correct (against the gold answer: the
gold's facts stated, or an abstention on an unanswerable question; a grounded answer to another question is
wrong), abstained. Every rate comes with a bootstrap 95% interval over the questions, and two models are
compared on their paired per-question differences (ml_platform.evaluation.intervals).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from ml_platform.config.assistant import AssistantConfig
from ml_platform.evaluation.intervals import interval, paired_difference
from ml_platform.guardrails.grounding import is_abstention, numeric_facts, states
from ml_platform.llm.answering import Prepared, check, prepare, settle
from ml_platform.llm.generation import Generated, generate_many, prompt_text
from ml_platform.storage import ObjectStore

log = logging.getLogger(__name__)
_WORD = re.compile(r"[a-z0-9$%.,]+")


def _tokens(text: str) -> list[str]:
    return [t.strip(".,") for t in _WORD.findall(text.lower()) if t.strip(".,")]


def token_f1(prediction: str, gold: str) -> float:
    pred, ref = _tokens(prediction), _tokens(gold)
    common = sum((Counter(pred) & Counter(ref)).values())
    if not pred or not ref or not common:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def rouge_l(prediction: str, gold: str) -> float:
    """ROUGE-L F-measure from the longest common subsequence of tokens."""
    pred, ref = _tokens(prediction), _tokens(gold)
    if not pred or not ref:
        return 0.0
    previous = [0] * (len(ref) + 1)
    for p in pred:
        current = [0]
        for j, r in enumerate(ref):
            current.append(previous[j] + 1 if p == r else max(previous[j + 1], current[j]))
        previous = current
    lcs = previous[-1]
    if not lcs:
        return 0.0
    precision, recall = lcs / len(pred), lcs / len(ref)
    return 2 * precision * recall / (precision + recall)


# An answer without the gold's numbers (a gold answer always states one on the demo) is judged by its words.
MIN_TOKEN_F1_WITHOUT_FACTS = 0.5


def is_correct(answer: str, gold: str, answerable: bool) -> bool:
    """Does the answer answer the question? Unanswerable: only an abstention is right. Answerable: every fact
    of the gold answer is stated (normalised: "two weeks" is "14 days"; a bare "55" counts for "$55")."""
    if is_abstention(answer):
        return not answerable
    if not answerable:
        return False
    wanted = numeric_facts(gold)
    if not wanted:
        return token_f1(answer, gold) >= MIN_TOKEN_F1_WITHOUT_FACTS
    stated = numeric_facts(answer)
    return all(states(stated, fact) for fact in wanted)


@dataclass
class Answer:
    question_id: str
    question: str
    gold: str
    answerable: bool
    hit: bool  # the passage that answers it was retrieved
    top_score: float
    context: str
    raw: str  # what the model said
    served: str  # what the guarded path serves
    guard: str  # answered | no_relevant_context | unsupported_replaced
    hallucinated: bool  # the model's answer, by the grounding check
    why: str
    abstained: bool
    correct: bool
    served_abstained: bool
    served_correct: bool
    latency_s: float
    tokens_in: int
    tokens_out: int
    cached: bool


@dataclass(frozen=True)
class Retrieved:
    prepared: Prepared
    hit: bool


def retrieve(questions: pd.DataFrame, retriever, config: AssistantConfig) -> list[Retrieved]:
    """Each question's passages from the live index, through the guarded path's preparation."""
    searched = retriever.search_many(questions["question"].tolist(), config.retrieval.k)
    out = []
    for row, hits in zip(questions.itertuples(), searched, strict=True):
        top = max((h.score for h in hits), default=None)
        prepared = prepare(row.question, [h.text for h in hits], top, config)
        out.append(Retrieved(prepared, bool(row.article_id) and row.article_id in {h.article_id for h in hits}))
    return out


class AnswerCache:
    """Answers already generated, by (prompt, generation settings) under the model's hash: an unchanged model
    asked the same question with the same context (the base model every night, a champion re-evaluated) is not
    asked again. Each run appends its own file, so concurrent runs never overwrite each other."""

    def __init__(self, store: ObjectStore | None, model_hash: str, run_key: str):
        self.store, self.prefix, self.run_key = store, f"_cache/answers/{model_hash[:24]}", run_key
        self.known: dict[str, dict[str, Any]] = {}
        if store is not None:
            for key in sorted(store.list(self.prefix + "/")):
                self.known |= json.loads(store.get(key))

    @staticmethod
    def key(text: str, max_new_tokens: int) -> str:
        return hashlib.sha256(f"{max_new_tokens}\n{text}".encode()).hexdigest()

    def save(self, new: dict[str, dict[str, Any]]) -> None:
        if self.store is not None and new:
            self.store.put(f"{self.prefix}/{self.run_key}.json", json.dumps(new, sort_keys=True).encode())


def generate_cached(
    model, tokenizer, texts: Sequence[str], config: AssistantConfig, cache: AnswerCache, shown: str
) -> list[tuple[Generated, bool]]:
    """(generation, came from the cache?) per prompt text; the rest generated in batches, with progress."""
    settings = config.evaluation
    keys = [AnswerCache.key(t, settings.max_new_tokens) for t in texts]
    todo = sorted({k: t for k, t in zip(keys, texts, strict=True) if k not in cache.known}.items())

    def progress(done: int, total: int) -> None:
        if done % (4 * settings.batch_size) < settings.batch_size or done == total:
            log.info("%s: generated %d/%d answers (%d from the cache)", shown, done, total, len(texts) - total)

    made = generate_many(model, tokenizer, [t for _, t in todo], settings.max_new_tokens, settings.batch_size, progress)
    new = {k: asdict(g) for (k, _), g in zip(todo, made, strict=True)}
    cache.save(new)
    known = cache.known | new
    return [(Generated(**known[k]), k not in new) for k in keys]


def answer_all(
    model,
    tokenizer,
    questions: pd.DataFrame,
    retrieved: list[Retrieved],
    config: AssistantConfig,
    cache: AnswerCache,
    shown: str,
) -> list[Answer]:
    """Every question answered by the model, then settled by the guarded path."""
    texts = [prompt_text(tokenizer, r.prepared.question, r.prepared.context, config.prompt) for r in retrieved]
    generated = generate_cached(model, tokenizer, texts, config, cache, shown)
    answers = []
    for row, r, (gen, cached) in zip(questions.itertuples(), retrieved, generated, strict=True):
        settled = settle(r.prepared, gen.text, config)
        verdict = settled.verdict or check(gen.text, r.prepared, config)
        answerable = bool(row.answerable)
        answers.append(
            Answer(
                question_id=row.question_id,
                question=row.question,
                gold=row.gold_answer,
                answerable=answerable,
                hit=r.hit,
                top_score=round(r.prepared.top_score or 0.0, 4),
                context=r.prepared.context,
                raw=gen.text,
                served=settled.answer,
                guard=settled.outcome,
                hallucinated=verdict.hallucinated,
                why="; ".join(verdict.reasons),
                abstained=verdict.abstained,
                correct=is_correct(gen.text, row.gold_answer, answerable),
                served_abstained=is_abstention(settled.answer),
                served_correct=is_correct(settled.answer, row.gold_answer, answerable),
                latency_s=round(gen.latency_s, 4),
                tokens_in=gen.tokens_in,
                tokens_out=gen.tokens_out,
                cached=cached,
            )
        )
    return answers


# Each rate: (who it is measured over, the per-question value). Bare model first, then the guarded path.
Population = Callable[[Answer], bool]
_ALL: Population = lambda a: True  # noqa: E731
_ANSWERABLE: Population = lambda a: a.answerable  # noqa: E731
_UNANSWERABLE: Population = lambda a: not a.answerable  # noqa: E731
RATES: dict[str, tuple[Population, Callable[[Answer], float]]] = {
    "hallucination_rate": (_ALL, lambda a: a.hallucinated),
    "correctness": (_ALL, lambda a: a.correct),
    "abstention_accuracy": (_UNANSWERABLE, lambda a: a.abstained),
    "false_abstention_rate": (_ANSWERABLE, lambda a: a.abstained),
    "wrong_answer_rate": (_ALL, lambda a: not a.abstained and not a.correct),
    "token_f1": (_ANSWERABLE, lambda a: token_f1(a.raw, a.gold)),
    "rouge_l": (_ANSWERABLE, lambda a: rouge_l(a.raw, a.gold)),
    "retrieval_hit_rate": (_ANSWERABLE, lambda a: a.hit),
    "served_correctness": (_ALL, lambda a: a.served_correct),
    "served_wrong_answer_rate": (_ALL, lambda a: not a.served_abstained and not a.served_correct),
    "served_abstention_accuracy": (_UNANSWERABLE, lambda a: a.served_abstained),
    "served_false_abstention_rate": (_ANSWERABLE, lambda a: a.served_abstained),
    "abstention_rate": (_ALL, lambda a: a.abstained),
    "served_abstention_rate": (_ALL, lambda a: a.served_abstained),
}
# The rates that need no gold answer: all that can be measured on production chats.
UNLABELLED_RATES = ("hallucination_rate", "abstention_rate", "served_abstention_rate")


def per_question(answers: list[Answer], metric: str) -> list[float]:
    population, value = RATES[metric]
    return [float(value(a)) for a in answers if population(a)]


def score(
    answers: list[Answer], config: AssistantConfig, labelled: bool = True
) -> tuple[dict[str, float], dict[str, list[float]]]:
    """(metrics, 95% interval per rate). A rate over an empty population (no unanswerable questions) is NaN.
    `labelled=False` (production chats: no gold answer) keeps to the rates that need none."""
    seed = config.evaluation.bootstrap_seed
    metrics: dict[str, float] = {}
    intervals: dict[str, list[float]] = {}
    for metric in RATES if labelled else UNLABELLED_RATES:
        mean, low, high = interval(per_question(answers, metric), seed)
        metrics[metric] = mean
        intervals[metric] = [round(low, 5), round(high, 5)]
    latencies = np.array([a.latency_s for a in answers])
    tokens_in = float(np.mean([a.tokens_in for a in answers]))
    tokens_out = float(np.mean([a.tokens_out for a in answers]))
    prices = config.evaluation
    metrics |= {
        "latency_p50_s": float(np.percentile(latencies, 50)),
        "latency_p95_s": float(np.percentile(latencies, 95)),
        "tokens_in": tokens_in,
        "tokens_out": tokens_out,
        # Per answer: tokens x price per 1k tokens; per 1,000 answers the factors of 1,000 cancel.
        "cost_per_1k_answers_usd": tokens_in * prices.price_per_1k_input_tokens
        + tokens_out * prices.price_per_1k_output_tokens,
        "questions": float(len(answers)),
        "cached_answers": float(sum(a.cached for a in answers)),
    }
    return {k: round(v, 5) for k, v in metrics.items()}, intervals


def compare(new: list[Answer], old: list[Answer], metrics: Sequence[str], seed: int) -> dict[str, list[float]]:
    """[mean, low, high] of new - old per metric, paired question by question."""
    if [a.question_id for a in new] != [a.question_id for a in old]:
        raise ValueError("compared models must answer the same questions in the same order")
    out = {}
    for metric in metrics:
        mean, low, high = paired_difference(per_question(new, metric), per_question(old, metric), seed)
        out[metric] = [round(mean, 5), round(low, 5), round(high, 5)]
    return out


def pick_questions(pool: pd.DataFrame, n: int, seed: int, day: date) -> pd.DataFrame:
    """n questions of the day's pool, a third unanswerable (or as many as there are), drawn with a seed from the
    config and the date: reproducible for a date, different from one night to the next."""
    rng = np.random.default_rng([seed, day.toordinal()])
    unanswerable, answerable = pool[~pool["answerable"]], pool[pool["answerable"]]
    take_u = min(len(unanswerable), round(n / 3))
    take_a = min(len(answerable), n - take_u)
    parts = [
        answerable.iloc[np.sort(rng.choice(len(answerable), take_a, replace=False))],
        unanswerable.iloc[np.sort(rng.choice(len(unanswerable), take_u, replace=False))],
    ]
    return pd.concat(parts).sort_values("question_id").reset_index(drop=True)


def answers_table(answers: list[Answer], label: str) -> list[dict[str, Any]]:
    return [{"model": label, **{k: v for k, v in asdict(a).items() if k != "context"}} for a in answers]
