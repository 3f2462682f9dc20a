"""Screening for the support assistant: PII redaction, prompt-injection detection and toxicity, one screening
function for every path that carries customer or help-centre text.

`screen_many` is that function. Chats are redacted with it at ingest (ml_platform.pipelines.ingest), Q&A
pairs before fine-tuning, KB chunks before indexing, production questions before monitoring, and the served
model guards questions and answers with `guard_question` / `guard_answer`, built on it. Configuration
(recognisers, score thresholds, the injection vocabulary per language, the fixed replies) is
configs/guardrails.yaml; the labelled cases it is judged on are ml_platform/guardrails/cases/.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ml_platform.config.base import config_dir
from ml_platform.config.guardrails import GuardrailsConfig, load_guardrails_config
from ml_platform.guardrails.injection import compile_rules, find_injections
from ml_platform.guardrails.pii import PII_KINDS, Finding, build_analyzer, find_pii, placeholder, redact
from ml_platform.guardrails.toxicity import ToxicityCheck

KINDS = (*PII_KINDS, "injection", "toxic")

__all__ = ["KINDS", "PII_KINDS", "Finding", "Screened", "guard_answer", "guard_question", "placeholder"]
__all__ += ["screen", "screen_frame", "screen_many"]


@dataclass(frozen=True)
class Screened:
    text: str  # PII replaced by typed placeholders ("[EMAIL]", "[PHONE]", ...)
    pii: list[Finding]
    injection: list[Finding]
    toxicity: float  # probability of abusive language
    toxic: bool

    @property
    def blocked(self) -> bool:
        """Carries instructions for the assistant: never indexed, trained on or answered."""
        return bool(self.injection)

    @property
    def kinds(self) -> set[str]:
        return {f.kind for f in self.pii + self.injection} | ({"toxic"} if self.toxic else set())


class _Screener:
    def __init__(self, config: GuardrailsConfig) -> None:
        self.config = config
        self.analyzer = build_analyzer(config.pii)
        self.rules = compile_rules(config.injection)
        self.toxicity = ToxicityCheck(config.toxicity)

    def screen_many(self, texts: Sequence[str]) -> list[Screened]:
        out = []
        for text, (score, toxic) in zip(texts, self.toxicity.judge(texts), strict=True):
            pii = find_pii(text, self.analyzer, self.config.pii.score_threshold)
            injection = [
                Finding("injection", h.start, h.end, text[h.start : h.end], h.rule)
                for h in find_injections(text, self.rules)
            ]
            out.append(Screened(redact(text, pii), pii, injection, score, toxic))
        return out


@functools.cache
def _screener(folder: Path) -> _Screener:
    return _Screener(load_guardrails_config())


def _current() -> _Screener:
    """Built once per process and config folder: Presidio's analyzer takes about a second to set up."""
    return _screener(config_dir())


def screen_many(texts: Sequence[str]) -> list[Screened]:
    """PII redacted, injections found, toxicity scored; findings' offsets point into each original text."""
    return _current().screen_many(texts)


def screen(text: str) -> Screened:
    return screen_many([text])[0]


def guard_question(question: str) -> tuple[Screened, str | None]:
    """The screened question and, when it must not reach the model, the fixed reply to send instead."""
    screened = screen(question)
    replies = _current().config.replies
    if screened.blocked:
        return screened, replies.blocked_question
    if screened.toxic:
        return screened, replies.toxic_question
    return screened, None


def guard_answer(answer: str) -> tuple[str, Screened]:
    """What may be served for a generated answer: PII redacted, and a toxic answer never served."""
    screened = screen(answer)
    if screened.toxic:
        return _current().config.replies.withheld_answer, screened
    return screened.text, screened


def screen_frame(frame: pd.DataFrame, columns: list[str]) -> tuple[pd.DataFrame, dict[str, int]]:
    """A copy with `columns` redacted plus boolean `blocked` (an injection) and `toxic` columns, and finding
    counts per kind."""
    out = frame.copy()
    counts = dict.fromkeys(KINDS, 0)
    blocked = pd.Series(False, index=frame.index)
    toxic = pd.Series(False, index=frame.index)
    for column in columns:
        values = list(frame[column])
        texts = [v for v in values if isinstance(v, str)]
        results = iter(screen_many(texts))
        screened = [next(results) if isinstance(v, str) else None for v in values]
        out[column] = [s.text if s is not None else v for s, v in zip(screened, values, strict=True)]
        blocked |= pd.Series([s is not None and s.blocked for s in screened], index=frame.index)
        toxic |= pd.Series([s is not None and s.toxic for s in screened], index=frame.index)
        for result in filter(None, screened):
            for finding in result.pii + result.injection:
                counts[finding.kind] += 1
            counts["toxic"] += int(result.toxic)
    out["blocked"] = blocked.astype(bool)
    out["toxic"] = toxic.astype(bool)
    return out, counts
