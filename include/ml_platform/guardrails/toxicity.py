"""Toxicity on alt-profanity-check: a linear model over word n-grams, trained on labelled abusive text, whose
model ships inside the wheel (no download at run time, about 0.1 ms per text).

People mask swear words ("f***", "sh*t", "F U C K") and the model never saw those spellings, so masked words
are spelled out first from a short list of the words people mask (the model decides; the list only unmasks).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ml_platform.config.guardrails import ToxicityConfig
from ml_platform.guardrails.text import joined, view

_MASKABLE = (
    "fuck",
    "fucking",
    "fucked",
    "shit",
    "shitty",
    "bitch",
    "asshole",
    "ass",
    "damn",
    "bastard",
    "crap",
    "cunt",
    "dick",
    "piss",
)
_MASKED = re.compile(r"\b[a-z][a-z*#@$%!]*[*#@$%][a-z*#@$%!]*", re.IGNORECASE)


def _unmask(word: str) -> str:
    """The maskable word of the same length whose letters agree with the visible ones ("f**k" -> "fuck")."""
    for candidate in _MASKABLE:
        if len(word) == len(candidate) and all(
            c == m or not c.isalpha() for c, m in zip(word.lower(), candidate, strict=True)
        ):
            return candidate
    return word


def unmask(text: str) -> str:
    """`text` with masked swear words spelled out ("F*** you" -> "fuck you")."""
    return _MASKED.sub(lambda m: _unmask(m.group()), text)


def readable(text: str) -> str:
    """What the model should read: masked swear words spelled out, spelled-out words ("F U C K") joined."""
    return unmask(joined(view(text, fold=True)).text)


def toxicity_scores(texts: Sequence[str]) -> list[float]:
    """The probability that each text is abusive or profane, in one batch."""
    if not texts:
        return []
    from profanity_check import predict_prob  # loads the model (~1 s) on first use, not at import

    return [float(p) for p in predict_prob([readable(t) for t in texts])]


class ToxicityCheck:
    """The model's probability against the configured threshold, or one of the configured insults."""

    def __init__(self, config: ToxicityConfig) -> None:
        self.threshold = config.threshold
        self.insults = re.compile("|".join(config.insults), re.IGNORECASE) if config.insults else None

    def judge(self, texts: Sequence[str]) -> list[tuple[float, bool]]:
        """(score, toxic) per text, in one batch."""
        return [
            (score, score >= self.threshold or bool(self.insults and self.insults.search(text)))
            for text, score in zip(texts, toxicity_scores(texts), strict=True)
        ]
