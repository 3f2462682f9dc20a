"""Input guardrails for the support assistant: PII redaction and prompt-injection detection.

Rules are regular expressions tuned to be precise rather than greedy: help-centre text is full of prices,
data sizes, durations and plan names, and a redactor that eats those would wreck retrieval and answers. So
cards must pass the Luhn check, phones need phone punctuation or a leading "+", and addresses need a house
number, a capitalised street name and a street suffix. Offsets in every Finding refer to the input text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pandas as pd

PLACEHOLDERS = {"email": "[EMAIL]", "phone": "[PHONE]", "card": "[CARD]", "address": "[ADDRESS]"}
PII_KINDS = tuple(PLACEHOLDERS)
KINDS = (*PII_KINDS, "injection")


@dataclass(frozen=True)
class Finding:
    kind: str  # "email" | "phone" | "card" | "address" | "injection"
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Screened:
    text: str  # PII replaced by placeholders
    pii: list[Finding]
    injection: list[Finding]

    @property
    def blocked(self) -> bool:
        return bool(self.injection)


# -- PII ---------------------------------------------------------------------------------------------------
_EMAIL = re.compile(r"(?<![\w.+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")

# A run of 13-19 digits with optional single space/dash separators; the Luhn check decides.
_CARD = re.compile(r"(?<![\d$])(?<!\d[.,])\d(?:[ -]?\d){12,18}(?!\d|[.,]\d)")

# North-American numbers need a bracketed area code or separators, so bare order numbers stay untouched;
# the look-behind keeps "$" amounts, decimals and dates from matching.
_PHONE_NA = re.compile(r"(?<![\w$.,+/-])(?:\+?1[ .-]?)?(?:\(\d{3}\)[ .-]?|\d{3}[ .-])\d{3}[ .-]\d{4}(?![\w-])")
# International numbers must start with "+country": that is what sets them apart from prices and counts.
_PHONE_INTL = re.compile(r"(?<![\w$])\+\d{1,3}(?:[ .-]?(?:\(\d{1,4}\)|\d{1,5})){2,5}(?![\w-])")

_STREET_SUFFIX = r"(?:Street|St|Avenue|Ave|Road|Rd|Lane|Ln|Drive|Dr|Boulevard|Blvd|Court|Ct|Way|Place|Pl|Terrace)"
# Street-name words must be capitalised (or ordinals like "5th"): "5 lines" or "2 GB a day" never match.
_ADDRESS = re.compile(
    r"(?<![\w$.,-])\d{1,5}[A-Za-z]?\s+"
    r"(?:(?:[A-Z][a-zA-Z'-]+|\d+(?:st|nd|rd|th))\s+){1,3}"
    rf"(?i:{_STREET_SUFFIX})\b\.?"
    r"(?:,?\s+(?i:apt|apartment|suite|unit|flat)\.?\s*#?\s*\w+|,?\s+#\s*\w+)?"
)


def _luhn_ok(digits: str) -> bool:
    total = 0
    for pos, char in enumerate(reversed(digits)):
        digit = int(char) * 2 if pos % 2 else int(char)
        total += digit - 9 if digit > 9 else digit
    return total % 10 == 0


def _cards(text: str) -> Iterator[tuple[int, int]]:
    for match in _CARD.finditer(text):
        # A card followed by another number ("... 1111 2") over-matches; retry shorter runs at separators.
        raw = match.group()
        ends = [len(raw), *reversed([m.start() for m in re.finditer(r"[ -]", raw)])]
        for end in ends:
            digits = re.sub(r"\D", "", raw[:end])
            if 13 <= len(digits) <= 19 and _luhn_ok(digits):
                yield match.start(), match.start() + end
                break


def _phones(text: str) -> Iterator[tuple[int, int]]:
    for match in _PHONE_NA.finditer(text):
        yield match.span()
    for match in _PHONE_INTL.finditer(text):
        if 8 <= sum(c.isdigit() for c in match.group()) <= 15:
            yield match.span()


def _spans(pattern: re.Pattern[str]) -> Callable[[str], Iterator[tuple[int, int]]]:
    return lambda text: (m.span() for m in pattern.finditer(text))


# Order matters: on overlap the earlier detector wins (an email's digits are not a phone).
_PII_DETECTORS: tuple[tuple[str, Callable[[str], Iterator[tuple[int, int]]]], ...] = (
    ("email", _spans(_EMAIL)),
    ("card", _cards),
    ("phone", _phones),
    ("address", _spans(_ADDRESS)),
)


def _non_overlapping(findings: list[Finding]) -> list[Finding]:
    kept: list[Finding] = []
    for finding in findings:
        if all(finding.end <= k.start or finding.start >= k.end for k in kept):
            kept.append(finding)
    return sorted(kept, key=lambda f: f.start)


def redact_pii(text: str) -> tuple[str, list[Finding]]:
    """The text with every PII span replaced by its placeholder, and the findings (offsets into `text`)."""
    candidates = [
        Finding(kind, start, end, text[start:end]) for kind, detect in _PII_DETECTORS for start, end in detect(text)
    ]
    findings = _non_overlapping(candidates)
    redacted = text
    for finding in reversed(findings):
        redacted = redacted[: finding.start] + PLACEHOLDERS[finding.kind] + redacted[finding.end :]
    return redacted, findings


# -- prompt injection ----------------------------------------------------------------------------------------
_TARGET = (
    r"(?:instructions?|rules|prompts?|directions|directives|guidelines|guardrails|restrictions|constraints|programming)"
)
_INJECTION_PATTERNS = tuple(
    re.compile(p, re.IGNORECASE)
    for p in (
        # "ignore (all) previous instructions", "disregard your rules", "forget the above prompt"...
        r"\b(?:ignore|disregard|forget|override|bypass|skip)\s+(?:(?:all|any|the|of|every)\s+)*"
        # "my"/"these" are left out: "ignore my previous instructions, ship it to the store" or a manual's
        # "if you use eSIM, ignore these instructions" are ordinary requests, not attacks.
        r"(?:previous|prior|above|earlier|preceding|former|original|your|system|safety)\s+"
        rf"(?:\w+\s+){{0,2}}{_TARGET}\b",
        r"\b(?:ignore|disregard|forget)\s+(?:everything|anything|all)\s+"
        r"(?:above|before|previously|you\s+(?:were|have\s+been)\s+told)\b",
        # Not "you are now a Northwind customer" or "you are now free to roam": only role and rule changes.
        r"\byou\s+are\s+now\s+(?:in\s+\w+\s+mode|an?\s+(?:\w+\s+)?(?:ai|assistant|bot|model|chatbot)\b"
        r"|my\s+(?:\w+\s+)?(?:assistant|bot|servant)|no\s+longer\s+bound|unrestricted|unfiltered|jailbroken|dan\b)",
        r"\b(?:act|behave)\s+as\s+(?:if|though)\s+you\b",
        r"\b(?:act|behave)\s+as\s+(?:an?\s+)?(?:unrestricted|unfiltered|uncensored|jailbroken|dan\b|different\s+ai)",
        r"\bpretend\s+(?:to\s+be|you\s+are|that\s+you)\b",
        r"\b(?:developer|debug|god|admin)\s+mode\b",
        r"\bjail\s*-?\s*break\w*",
        r"\bsystem\s+prompt\b",
        r"\b(?:reveal|print|show|display|output|repeat|leak)\s+(?:me\s+)?(?:your|the)\s+"
        r"(?:hidden|initial|original|secret|internal)\s+(?:instructions|prompt|rules)\b",
        r"\bnew\s+instructions?\s*:",
    )
)


def find_injection(text: str) -> list[Finding]:
    """Instruction-override phrasing in `text`, case-insensitive; overlapping hits are merged."""
    spans = sorted(m.span() for p in _INJECTION_PATTERNS for m in p.finditer(text))
    merged: list[list[int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [Finding("injection", s, e, text[s:e]) for s, e in merged]


# -- entry points --------------------------------------------------------------------------------------------
def screen(text: str) -> Screened:
    """Redact PII and look for injections; injection offsets refer to the original text, like PII ones."""
    redacted, pii = redact_pii(text)
    return Screened(redacted, pii, find_injection(text))


def screen_frame(frame: pd.DataFrame, columns: list[str]) -> tuple[pd.DataFrame, dict[str, int]]:
    """A copy with `columns` redacted plus a boolean `blocked` column, and finding counts per kind."""
    out = frame.copy()
    counts = dict.fromkeys(KINDS, 0)
    blocked = pd.Series(False, index=frame.index)
    for column in columns:
        results = [screen(v) if isinstance(v, str) else None for v in frame[column]]
        out[column] = [r.text if r is not None else v for r, v in zip(results, frame[column], strict=True)]
        blocked |= pd.Series([r is not None and r.blocked for r in results], index=frame.index)
        for result in filter(None, results):
            for finding in result.pii + result.injection:
                counts[finding.kind] += 1
    out["blocked"] = blocked.astype(bool)
    return out, counts
