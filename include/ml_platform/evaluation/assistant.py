"""Evaluation of an assistant through the production RAG path: retrieve from the live index, generate, score.

The same questions, retrieval and scoring serve the base model, the champion and the challenger, and the
champion on the day's chats in production, so their numbers sit side by side. Scores: token F1 and ROUGE-L
against the gold answer, hallucination rate (ml_platform.evaluation.hallucination), abstention accuracy on
unanswerable questions, retrieval hit rate, latency p50/p95, tokens in/out and the cost of 1,000 answers at
the configured token prices.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ml_platform.config.assistant import AssistantConfig
from ml_platform.evaluation.hallucination import HallucinationVerdict, detect_hallucination, is_abstention
from ml_platform.llm.generation import generate
from ml_platform.llm.prompts import format_context, system_prompt

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


@dataclass
class Answer:
    question_id: str
    question: str
    answer: str
    gold: str
    answerable: bool
    hit: bool
    context: str
    latency_s: float
    tokens_in: int
    tokens_out: int


def grounds(context: str, config: AssistantConfig) -> str:
    """What an answer may rely on: the retrieved context and the prompt's own words (the company's name)."""
    return f"{context}\n{system_prompt(config.prompt)}"


def retrieve_contexts(questions: pd.DataFrame, retriever, config: AssistantConfig) -> list[tuple[str, bool]]:
    """(context, supporting article retrieved?) per question, from the live index."""
    out = []
    searched = retriever.search_many(questions["question"].tolist(), config.retrieval.k)
    for row, hits in zip(questions.itertuples(), searched, strict=True):
        context = format_context([h.text for h in hits], config.prompt.max_context_chars)
        out.append((context, bool(row.article_id) and row.article_id in {h.article_id for h in hits}))
    return out


def answer_all(
    model, tokenizer, questions: pd.DataFrame, contexts: list[tuple[str, bool]], config: AssistantConfig, shown: str
) -> list[Answer]:
    """Every question answered through the RAG prompt, with progress in the log."""
    answers = []
    for index, (row, (context, hit)) in enumerate(zip(questions.itertuples(), contexts, strict=True), 1):
        out = generate(model, tokenizer, row.question, context, config.prompt, config.evaluation.max_new_tokens)
        answers.append(
            Answer(
                row.question_id,
                row.question,
                out.text,
                row.gold_answer,
                bool(row.answerable),
                hit,
                context,
                out.latency_s,
                out.tokens_in,
                out.tokens_out,
            )
        )
        if index % 6 == 0 or index == len(questions):
            log.info("%s: answered %d/%d questions", shown, index, len(questions))
    return answers


def judge(answers: list[Answer], config: AssistantConfig) -> list[HallucinationVerdict]:
    """The hallucination detector's verdict on each answer, against what it was allowed to rely on."""
    detector = config.evaluation.detector
    return [detect_hallucination(a.answer, grounds(a.context, config), detector) for a in answers]


def _mean(values: list[float] | list[bool], empty: float) -> float:
    return float(np.mean(values)) if values else empty


def score(answers: list[Answer], verdicts: list[HallucinationVerdict], config: AssistantConfig) -> dict[str, float]:
    answerable = [a for a in answers if a.answerable]
    unanswerable = [a for a in answers if not a.answerable]
    latencies = np.array([a.latency_s for a in answers])
    tokens_in = float(np.mean([a.tokens_in for a in answers]))
    tokens_out = float(np.mean([a.tokens_out for a in answers]))
    prices = config.evaluation
    metrics = {
        "token_f1": _mean([token_f1(a.answer, a.gold) for a in answerable], 0.0),
        "rouge_l": _mean([rouge_l(a.answer, a.gold) for a in answerable], 0.0),
        "hallucination_rate": _mean([v.hallucinated for v in verdicts], 0.0),
        "abstention_accuracy": _mean([is_abstention(a.answer) for a in unanswerable], 1.0),
        "false_abstention_rate": _mean([is_abstention(a.answer) for a in answerable], 0.0),
        "retrieval_hit_rate": _mean([a.hit for a in answerable], 0.0),
        "latency_p50_s": float(np.percentile(latencies, 50)),
        "latency_p95_s": float(np.percentile(latencies, 95)),
        "tokens_in": tokens_in,
        "tokens_out": tokens_out,
        # Per answer: tokens x price per 1k tokens; per 1,000 answers the factors of 1,000 cancel.
        "cost_per_1k_answers_usd": tokens_in * prices.price_per_1k_input_tokens
        + tokens_out * prices.price_per_1k_output_tokens,
        "questions": float(len(answers)),
    }
    return {k: round(v, 5) for k, v in metrics.items()}


def evaluate_answers(
    model,
    tokenizer,
    questions: pd.DataFrame,
    contexts: list[tuple[str, bool]],
    config: AssistantConfig,
    label: str,
    version: str | None = None,
) -> tuple[dict[str, float], list[dict[str, Any]]]:
    """(metrics, per-answer table) of one model (`label`: base, champion, challenger; `version` for the log)
    on the given questions: the unit both evaluation and production monitoring run."""
    answers = answer_all(model, tokenizer, questions, contexts, config, f"{label} v{version}" if version else label)
    verdicts = judge(answers, config)
    return score(answers, verdicts, config), answers_table(answers, verdicts, label)


def pick_questions(eval_questions: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """A fixed, stratified subset: the same questions for every model evaluated on a day."""
    unanswerable = eval_questions[~eval_questions["answerable"]]
    answerable = eval_questions[eval_questions["answerable"]]
    take_u = min(len(unanswerable), max(1, round(n * len(unanswerable) / max(1, len(eval_questions)))))
    parts = [
        answerable.sample(n=min(len(answerable), n - take_u), random_state=seed),
        unanswerable.sample(n=take_u, random_state=seed),
    ]
    return pd.concat(parts).sort_values("question_id").reset_index(drop=True)


def answers_table(answers: list[Answer], verdicts: list[HallucinationVerdict], label: str) -> list[dict[str, Any]]:
    return [
        {
            "model": label,
            "question_id": a.question_id,
            "question": a.question,
            "answer": a.answer,
            "gold": a.gold,
            "answerable": a.answerable,
            "retrieved_support": a.hit,
            "hallucinated": verdict.hallucinated,
            "why": "; ".join(verdict.reasons),
            "latency_s": round(a.latency_s, 3),
            "tokens_in": a.tokens_in,
            "tokens_out": a.tokens_out,
        }
        for a, verdict in zip(answers, verdicts, strict=True)
    ]
