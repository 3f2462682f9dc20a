"""The guardrails' configuration: which PII recognisers run and from what score they count, the injection
vocabulary per language, the toxicity threshold and the fixed replies. One file serves every screened path."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StrictFloat, StrictStr

from ml_platform.config.base import StrictModel, load

_Text = Annotated[StrictStr, Field(min_length=1)]
_Words = tuple[_Text, ...]
_Score = Annotated[StrictFloat, Field(ge=0, le=1)]


class PiiConfig(StrictModel):
    score_threshold: _Score  # Presidio scores: checksummed patterns score 1.0, bare phone numbers 0.4
    phone_regions: _Words  # phonenumbers region codes a number without "+country" is tried against
    recognizers: _Words  # Presidio's predefined recognisers by class name (national IDs, IBAN, cards, ...)
    context_words: dict[_Text, _Words] = Field(default_factory=dict)  # extra context per recogniser class


class InjectionLanguage(StrictModel):
    """One language's vocabulary. Phrases are regular expressions over text folded to ASCII for Latin
    scripts (accents and look-alike letters removed), over the original text for other scripts."""

    override_verbs: _Words  # "ignore", "disregard"...: aimed at the instructions below
    instruction_nouns: _Words  # "instructions", "rules", "prompt"...
    own_words: _Words = ()  # a customer's own ("my", "these"): "ignore my previous instructions" is an errand
    self_subjects: _Words = ()  # "can I", "should I" just before the verb: the customer asks about their own act
    role_phrases: _Words = ()  # role and mode changes: "from now on you are", "act as an unrestricted AI"
    void_subjects: _Words = ()  # the assistant's rules as a noun phrase: "the previous rules", "your restrictions"
    void_phrases: _Words = ()  # ... declared void: "no longer apply", "have been lifted"
    reveal_verbs: _Words = ()  # "reveal", "print"...: aimed at the secret nouns below
    secret_nouns: _Words = ()  # "system prompt", "hidden instructions"...
    folded: bool = True  # match against the ASCII-folded text (Latin scripts)


class InjectionConfig(StrictModel):
    window_words: Annotated[int, Field(ge=0, le=12)]  # how many words may stand between a verb and its noun
    control_tokens: _Words  # chat-template markers, as regular expressions
    fake_headers: _Words  # lines that pose as another speaker ("SYSTEM:", "### Instruction:")
    languages: dict[_Text, InjectionLanguage]


class ToxicityConfig(StrictModel):
    threshold: _Score  # alt-profanity-check probability from which a text counts as abusive
    insults: _Words = ()  # abuse without swear words, which the profanity model scores low (regexes)


class Replies(StrictModel):
    toxic_question: _Text
    blocked_question: _Text
    withheld_answer: _Text


class GuardrailsConfig(StrictModel):
    pii: PiiConfig
    injection: InjectionConfig
    toxicity: ToxicityConfig
    replies: Replies


def load_guardrails_config() -> GuardrailsConfig:
    return load(GuardrailsConfig, "guardrails.yaml")
