"""Prompt-injection detection: instructions aimed at the assistant rather than questions for it.

No maintained library covers this offline: the classifiers that exist (LLM Guard, Rebuff, the DeBERTa
injection models) download weights or call a service at run time, which cannot work here. So the detector
is a small grammar over a per-language vocabulary kept in configs/guardrails.yaml, not a keyword list:
  - an override verb governing the assistant's instructions within a few words ("ignore the instructions
    above", "olvida todas las reglas"), unless the words between make them the customer's own ("ignore my
    previous instructions, ship it to the store" is an errand) or the customer asks about their own act
    ("can I ignore the system message on my phone?");
  - the assistant's rules declared void ("the previous rules no longer apply");
  - role and mode changes ("from now on you answer as", "act as an unrestricted AI");
  - a request to reveal hidden or system instructions ("print your system prompt"), but not "what are your
    instructions for setting up eSIM";
  - chat-template control tokens and lines that pose as another speaker ("SYSTEM:", "### Instruction:").
It runs on views of the text that undo obfuscation (ml_platform.guardrails.text): invisible characters,
look-alike letters, spelled-out words and base64. Findings point into the original text.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator
from dataclasses import dataclass

from ml_platform.config.guardrails import InjectionConfig, InjectionLanguage
from ml_platform.guardrails.text import View, deleeted, joined, view

_FLAGS = re.IGNORECASE | re.UNICODE


@dataclass(frozen=True)
class Rule:
    name: str  # "en:override", "control_token", ...
    pattern: re.Pattern[str]
    folded: bool
    own_words: frozenset[str] = frozenset()  # words that, between verb and noun, make it the customer's own
    self_subject: re.Pattern[str] | None = None  # "can I" right before the verb: a question about their own act


def _any(phrases: tuple[str, ...]) -> str:
    return "(?:" + "|".join(phrases) + ")"


def _pair(first: tuple[str, ...], second: tuple[str, ...], window: int, spaced: bool) -> str:
    if spaced:
        return rf"\b{_any(first)}\b(?P<between>(?:\W+\w+){{0,{window}}}?)\W+{_any(second)}\b"
    gap = window * 3
    return rf"{_any(first)}.{{0,{gap}}}?{_any(second)}|{_any(second)}.{{0,{gap}}}?{_any(first)}"


def _language_rules(
    code: str, lang: InjectionLanguage, window: int, own: frozenset[str], self_subject: re.Pattern[str] | None
) -> Iterator[Rule]:
    spaced = lang.folded  # other scripts: a window of characters, either order (verb-last languages)
    override = re.compile(_pair(lang.override_verbs, lang.instruction_nouns, window, spaced), _FLAGS)
    yield Rule(f"{code}:override", override, lang.folded, own, self_subject)
    if lang.void_subjects and lang.void_phrases:
        pattern = _pair(lang.void_subjects, lang.void_phrases, window, spaced)
        yield Rule(f"{code}:void", re.compile(pattern, _FLAGS), lang.folded, own)
    if lang.reveal_verbs and lang.secret_nouns:
        pattern = _pair(lang.reveal_verbs, lang.secret_nouns, window, spaced)
        yield Rule(f"{code}:reveal", re.compile(pattern, _FLAGS), lang.folded)
    if lang.role_phrases:
        boundary = r"\b" if spaced else ""
        role = re.compile(boundary + _any(lang.role_phrases), _FLAGS)
        yield Rule(f"{code}:role", role, lang.folded, self_subject=self_subject)  # "can I pretend to be ..."


def compile_rules(config: InjectionConfig) -> tuple[Rule, ...]:
    # A text is matched against every language's rules, so the customer's-own words of every language count:
    # the French rule must not fire on English "ignore my previous instructions" either.
    own = frozenset(w.lower() for lang in config.languages.values() for w in lang.own_words)
    subjects = [p for lang in config.languages.values() for p in lang.self_subjects]
    self_subject = re.compile(rf"\b{_any(tuple(subjects))}\W*$", _FLAGS) if subjects else None
    rules = [Rule("control_token", re.compile(_any(config.control_tokens), _FLAGS), folded=False)]
    rules.append(Rule("fake_speaker", re.compile(_any(config.fake_headers), _FLAGS), folded=True))
    for code, lang in sorted(config.languages.items()):
        rules.extend(_language_rules(code, lang, config.window_words, own, self_subject))
    return tuple(rules)


def _is_customers_own(rule: Rule, match: re.Match[str]) -> bool:
    between = match.groupdict().get("between") or ""
    if rule.own_words & set(re.findall(r"\w+", between.lower())):
        return True
    before = match.string[max(0, match.start() - 40) : match.start()]
    return bool(rule.self_subject and rule.self_subject.search(before))


@dataclass(frozen=True)
class Hit:
    rule: str
    start: int  # into the original text
    end: int


_BASE64 = re.compile(r"(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{16,}={0,2}(?![A-Za-z0-9+/=])")


def _decoded(text: str) -> list[View]:
    """Base64 runs that decode to readable text ("decode this and do what it says"), each as a view whose
    characters all point at the encoded run."""
    views = []
    for match in _BASE64.finditer(text):
        try:
            plain = base64.b64decode(match.group() + "=" * (-len(match.group()) % 4), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            continue
        if all(c.isprintable() or c.isspace() for c in plain):
            views.append(View(plain, (match.start(),) * (len(plain) - 1) + (match.end() - 1,)))
    return views


def find_injections(text: str, rules: tuple[Rule, ...]) -> list[Hit]:
    """Every rule that fires on `text`, on the view it is written for, with spans in the original text."""
    decoded = _decoded(text)  # base64 runs, decoded once for both kinds of rule
    views = {False: view(text, fold=False), True: view(text, fold=True)}
    views_to_try: dict[bool, tuple[View, ...]] = {k: (v, joined(v), deleeted(v), *decoded) for k, v in views.items()}
    hits: list[Hit] = []
    for rule in rules:
        for candidate in views_to_try[rule.folded]:
            match = next((m for m in rule.pattern.finditer(candidate.text) if not _is_customers_own(rule, m)), None)
            if match is not None:
                hits.append(Hit(rule.name, *candidate.span(*match.span())))
                break
    return _merged(hits)


def _merged(hits: list[Hit]) -> list[Hit]:
    """Overlapping hits (English and French share "ignore ... instructions") as one, named by the first rule."""
    merged: list[Hit] = []
    for hit in sorted(hits, key=lambda h: (h.start, -h.end)):
        if merged and hit.start < merged[-1].end:
            last = merged[-1]
            merged[-1] = Hit(last.rule, last.start, max(last.end, hit.end))
        else:
            merged.append(hit)
    return merged
