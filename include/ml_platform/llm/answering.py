"""The guarded answer path: what the served model does with a question, and what the nightly evaluation measures.

1. Chat-template control tokens in the question and in every retrieved passage are neutralised, so neither can
   open a turn of its own (ml_platform.guardrails.control).
2. When the best retrieved passage scores under `guard.min_retrieval_score`, nothing relevant was found: the
   assistant abstains without generating.
3. Otherwise the model answers through the RAG prompt.
4. An answer the grounding check rejects (ml_platform.guardrails.grounding) is replaced by the abstention.

The evaluation asks the model in step 3 for every question, so it can report the bare model beside the guarded
path on the same answers; the served model skips generation where step 2 abstains.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ml_platform.config.assistant import AssistantConfig
from ml_platform.guardrails.control import neutralise
from ml_platform.guardrails.grounding import HallucinationVerdict, detect_hallucination
from ml_platform.llm.prompts import format_context, system_prompt

ANSWERED, NO_RELEVANT_CONTEXT, UNSUPPORTED_REPLACED = "answered", "no_relevant_context", "unsupported_replaced"


@dataclass(frozen=True)
class Prepared:
    question: str  # control tokens neutralised
    context: str  # the numbered passages, neutralised and cut to the prompt's budget
    top_score: float | None  # the best passage's retrieval score; None when the caller did not retrieve
    relevant: bool  # False: abstain without generating


@dataclass(frozen=True)
class Settled:
    answer: str  # what goes out
    outcome: str  # ANSWERED | NO_RELEVANT_CONTEXT | UNSUPPORTED_REPLACED
    verdict: HallucinationVerdict | None  # the grounding check of the model's answer (None: not generated)


def prepare(question: str, passages: Sequence[str], top_score: float | None, config: AssistantConfig) -> Prepared:
    # Neutralised before the budget cuts them, so no marker is cut in half; neutralising again changes nothing.
    context = format_context([neutralise(p) for p in passages], config.prompt.max_context_chars)
    return prepare_context(question, context, top_score, config)


def prepare_context(question: str, context: str, top_score: float | None, config: AssistantConfig) -> Prepared:
    """For a caller that brings the context already formatted (the served model's input frame). No score:
    relevance is left to the check after generating."""
    relevant = top_score is None or top_score >= config.guard.min_retrieval_score
    return Prepared(neutralise(question), neutralise(context), top_score, relevant and bool(context.strip()))


def grounds(context: str, config: AssistantConfig) -> str:
    """What an answer may rely on: the retrieved context and the prompt's own words (the company's name)."""
    return f"{context}\n{system_prompt(config.prompt)}"


def check(answer: str, prepared: Prepared, config: AssistantConfig) -> HallucinationVerdict:
    return detect_hallucination(answer, grounds(prepared.context, config), config.evaluation.detector)


def settle(prepared: Prepared, generated: str | None, config: AssistantConfig) -> Settled:
    """The answer that goes out, given what the model said (None when it was not asked)."""
    abstain = config.prompt.abstain_answer
    if not prepared.relevant or generated is None:
        return Settled(abstain, NO_RELEVANT_CONTEXT, None)
    verdict = check(generated, prepared, config)
    if verdict.hallucinated and config.guard.replace_unsupported:
        return Settled(abstain, UNSUPPORTED_REPLACED, verdict)
    return Settled(generated, ANSWERED, verdict)
