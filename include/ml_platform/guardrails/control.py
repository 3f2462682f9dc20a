"""Chat-template control tokens neutralised in text that goes into a prompt.

A question or a retrieved passage carrying `<|im_start|>system ...` would otherwise open a turn of its own: the
tokenizer turns the literal marker into the real control token. Each marker (configs/guardrails.yaml,
injection.control_tokens) keeps its letters but loses its brackets, so the text still reads the same to a person
and to the detectors, and no tokenizer can read it as a control token.
"""

from __future__ import annotations

import functools
import re

from ml_platform.config.guardrails import load_guardrails_config

_BRACKETS = re.compile(r"[<>|\[\]/]+")


@functools.cache
def _markers() -> re.Pattern[str]:
    tokens = load_guardrails_config().injection.control_tokens
    return re.compile("|".join(f"(?:{token})" for token in tokens), re.IGNORECASE)


def neutralise(text: str) -> str:
    """`<|im_start|>system` -> `(im_start)system`; text without markers comes back unchanged."""
    return _markers().sub(lambda m: f"({_BRACKETS.sub('', m.group()).strip() or 'marker'})", text)
