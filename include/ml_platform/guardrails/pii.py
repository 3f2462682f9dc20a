"""PII detection on Microsoft Presidio: its pattern recognisers with checksums (cards, IBANs, national IDs),
phone numbers through `phonenumbers`, e-mail addresses, and our own recognisers only where Presidio has none.

Presidio's default NLP engine needs a trained spaCy model, downloaded at run time, which cannot work here; the
recognisers used need only tokens and lemmas for their context words, so a blank spaCy pipeline (tokenizer
only, installed with spaCy) serves as the engine, with lower-cased tokens as lemmas.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import spacy
import tldextract
from presidio_analyzer import AnalyzerEngine, Pattern, PatternRecognizer, RecognizerRegistry, RecognizerResult
from presidio_analyzer import predefined_recognizers as predefined
from presidio_analyzer.nlp_engine import NlpArtifacts, SpacyNlpEngine

from ml_platform.config.guardrails import PiiConfig

# Presidio entity -> our kind; the kind names the placeholder ("[PHONE]") that keeps redacted text readable.
KIND_OF_ENTITY = {
    "EMAIL_ADDRESS": "email",
    "PHONE_NUMBER": "phone",
    "CREDIT_CARD": "card",
    "IBAN_CODE": "iban",
    "STREET_ADDRESS": "address",
    "UK_POSTCODE": "address",
}
NATIONAL_ID = "national_id"  # every other entity: SSN, NINO, NIF, codice fiscale, Aadhaar, PESEL, ...
PII_KINDS = ("email", "phone", "card", "iban", NATIONAL_ID, "address")


def kind_of(entity: str) -> str:
    return KIND_OF_ENTITY.get(entity, NATIONAL_ID)


class _BlankSpacyEngine(SpacyNlpEngine):
    """spaCy's English tokenizer without a trained pipeline (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__(models=[{"lang_code": "en", "model_name": "blank:en"}])

    def load(self) -> None:
        self.nlp = {"en": spacy.blank("en")}

    def _doc_to_nlp_artifact(self, doc, language: str) -> NlpArtifacts:
        artifacts = super()._doc_to_nlp_artifact(doc, language)
        artifacts.lemmas = [token.lower_ for token in doc]  # a blank pipeline has no lemmatizer
        return artifacts


# tldextract fetches the public-suffix list from the internet on first use; the snapshot inside the package
# serves offline and never blocks a task on the network.
_OFFLINE_SUFFIXES = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


class _OfflineEmailRecognizer(predefined.EmailRecognizer):
    def validate_result(self, pattern_text: str) -> bool:
        return _OFFLINE_SUFFIXES(pattern_text).fqdn != ""


# Presidio's card pattern allows one "-" or " " between groups; people also type dots and double spaces.
# Same checksum (Presidio's Luhn validation after removing the separators), wider separators.
_CARD_GROUPS = (
    r"\b(?:\d{4}(?:[ .\-]{1,3}\d{4}){3}(?:[ .\-]{1,3}\d{1,3})?|\d{4}[ .\-]{1,3}\d{6}[ .\-]{1,3}\d{5}|\d{13,19})\b"
)


def _card_recognizer() -> PatternRecognizer:
    return predefined.CreditCardRecognizer(
        patterns=[Pattern("card with any separators", _CARD_GROUPS, 0.3)],
        replacement_pairs=[("-", ""), (" ", ""), (".", "")],
    )


# No Presidio recogniser reads obfuscated addresses ("jane (at) example (dot) com"): own pattern.
_AT = r"(?:\s*[\[({<]\s*(?:at|@)\s*[\])}>]\s*|\s+at\s+|\s*@\s*)"
_DOT = r"(?:\s*[\[({<]\s*(?:dot|\.)\s*[\])}>]\s*|\s+dot\s+|\.)"
_OBFUSCATED_EMAIL = (
    rf"\b[A-Za-z0-9][\w.+-]*{_AT}[A-Za-z0-9-]+(?:{_DOT}[A-Za-z0-9-]+)*{_DOT}"
    r"(?:com|org|net|edu|gov|info|biz|mobi|[a-z]{2})\b"
)


def _obfuscated_email_recognizer() -> PatternRecognizer:
    return PatternRecognizer(
        supported_entity="EMAIL_ADDRESS",
        name="ObfuscatedEmailRecognizer",
        patterns=[Pattern("email with (at) and (dot)", _OBFUSCATED_EMAIL, 0.6)],
        global_regex_flags=re.IGNORECASE,
    )


# Presidio finds street addresses only through an NER model (which cannot be downloaded here), and then as
# bare locations: own patterns for house number + street name + street type, in either order and case.
_STREET_TYPES = (
    r"street|st|avenue|ave|road|rd|lane|ln|drive|dr|boulevard|blvd|court|ct|way|place|pl|terrace|close|"
    r"crescent|cres|square|sq|parkway|pkwy|highway|hwy|circle|cir|trail|row|mews|grove|gardens"
)
# "24 hours in a row", "5 minutes each way": counts and function words never name a street.
_NOT_A_STREET_NAME = r"(?:in|on|at|a|an|the|of|per|for|to|by|and|or|each|every|hours?|days?|minutes?|times?|lines?)"
_UNIT_WORDS = (
    r"(?:(?:apt|apartment|suite|ste|unit|flat|floor|fl|int|interno|scala|piso|planta|puerta|esc|etage|bte|"
    r"stock|whg|app|appt)\.?\s*#?\s*\w+|\d{1,2}\s*[ºª°]\s*[A-Za-z]?\b|\d{1,2}(?:st|nd|rd|th)\s+floor)"
)
_UNIT = rf"(?:,?\s+{_UNIT_WORDS}|,?\s+#\s*\w+)?"
# What may follow a street line: ", City", a US state and ZIP, a UK postcode, or a European postcode and
# city. A city without a postcode is only taken at the end of a sentence, so "12 Oak St tomorrow" keeps its
# last word.
_POSTCODE = r"(?:[A-Z]{2}\s+\d{5}(?:-\d{4})?|\d{5}(?:-\d{4})?|[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2})"
_CITY = r"[A-Za-zÀ-ÿ][\w'’-]+(?:\s+[A-Za-zÀ-ÿ][\w'’-]+)?"
_TAIL = (
    rf"(?:,?\s+\d{{5}}\s+{_CITY}"  # 10115 Berlin
    rf"|,\s*{_CITY}(?:,?\s+{_POSTCODE}|(?=\s*(?:[.!?]|$))))?"  # , Denver, CO 80203 / , London SW19 5AE
)
_STREET_ADDRESS_PATTERNS = [
    Pattern(
        "number first",
        rf"(?:\b{_UNIT_WORDS},?\s+)?(?<![\w$.,-])\d{{1,5}}[A-Za-z]?,?\s+"
        rf"(?:(?!{_NOT_A_STREET_NAME}\b)[A-Za-z][\w'’-]*\.?\s+){{1,3}}(?:{_STREET_TYPES})\b\.?{_UNIT}{_TAIL}",
        0.5,
    ),
    Pattern(
        "street first",  # Hauptstraße 5, Via Roma 10, Calle Mayor 12, rue de la Paix 8
        r"\b(?:[A-ZÄÖÜ][\wäöüß-]*(?:straße|strasse|str\.|weg|gasse|platz|allee|ring|damm)"
        r"|(?:via|viale|piazza|corso|calle|avenida|avda\.|rua|rue|boulevard|chemin|straat|laan|gracht)"
        r"(?:\s+(?:de|del|de\s+la|des|du|della|da|do|dos|van|der)?\s*[A-Za-zÀ-ÿ'-]+){1,3})"
        rf",?\s+\d{{1,4}}[a-z]?\b{_UNIT}{_TAIL}",
        0.5,
    ),
    Pattern(
        "number, then a French, Spanish or Italian street type",  # 12 rue de la Paix
        r"(?<![\w$.,-])\d{1,4}(?:\s*bis)?,?\s+(?:rue|avenue|av\.|boulevard|bd|place|chemin|allee|allée|impasse|quai)"
        r"\s+(?:(?:de|du|des|la|le|l'|d')\s*){0,2}[A-Za-zÀ-ÿ][\w'’-]+(?:\s+[A-Za-zÀ-ÿ][\w'’-]+)?" + _TAIL,
        0.5,
    ),
]


def _street_address_recognizer() -> PatternRecognizer:
    return PatternRecognizer(
        supported_entity="STREET_ADDRESS",
        name="StreetAddressRecognizer",
        patterns=_STREET_ADDRESS_PATTERNS,
        global_regex_flags=re.IGNORECASE,
        context=["send", "ship", "deliver", "address", "live", "move", "moved"],
    )


# phonenumbers accepts only assigned ranges, but "(400) 555-5366" typed by a customer is still somebody's
# contact detail (mistyped, or in a range assigned since the library's data was cut): own pattern for the
# unmistakable North-American layout, bracketed area code or separators, and "+country" groups.
_PHONE_SHAPES = [
    Pattern(
        "NANP layout", r"(?<![\w$.,+/-])(?:\+?1[ .-]?)?(?:\(\d{3}\)[ .-]?|\d{3}[ .-])\d{3}[ .-]\d{4}(?![\w-])", 0.4
    ),
]


def _phone_shape_recognizer() -> PatternRecognizer:
    return PatternRecognizer(supported_entity="PHONE_NUMBER", name="PhoneShapeRecognizer", patterns=_PHONE_SHAPES)


# A lower-case IBAN written as one word, or in groups of digits ("de44 5001 0517 ..."): Presidio reads IBANs
# in capitals only.
_LOWER_CASE_IBAN = re.compile(r"\b[a-z]{2}\d{2}(?:[a-z0-9]{10,30}|(?:\s?\d{4}){2,7}(?:\s?\d{1,3})?)\b")


class _AnyCaseIbanRecognizer(predefined.IbanRecognizer):
    """Presidio's IBAN check (country format and mod-97), with lower-case IBANs capitalised in place (same
    length, same offsets). Only those spans: capitalising the whole text turns the words after an IBAN into
    groups the IBAN pattern takes in, and the length check then fails."""

    def analyze(self, text: str, entities, nlp_artifacts=None, regex_flags=None):
        text = _LOWER_CASE_IBAN.sub(lambda m: m.group().upper(), text)
        return super().analyze(text, entities, nlp_artifacts, regex_flags)


# Separators Presidio's own patterns do not allow, checked by the same recognisers' checksums.
_EXTRA_PATTERNS = {
    "EsNieRecognizer": [Pattern("NIE with separators", r"\b[X-Z][- ]?[0-9]{7}[- ]?[A-Z]\b", 0.5)],
    "EsNifRecognizer": [Pattern("NIF with a space", r"\b[0-9]{8} [A-Z]\b", 0.5)],
}


def _predefined(name: str, config: PiiConfig):
    cls = _AnyCaseIbanRecognizer if name == "IbanRecognizer" else getattr(predefined, name)
    kwargs: dict = {"supported_language": "en"}
    if name in _EXTRA_PATTERNS:
        kwargs["patterns"] = [*cls.PATTERNS, *_EXTRA_PATTERNS[name]]
    if config.context_words.get(name):
        kwargs["context"] = list(config.context_words[name])
    return cls(**kwargs)


def build_analyzer(config: PiiConfig) -> AnalyzerEngine:
    registry = RecognizerRegistry(supported_languages=["en"])
    recognizers = [_predefined(n, config) for n in config.recognizers if n != "CreditCardRecognizer"]
    if "CreditCardRecognizer" in config.recognizers:
        recognizers.append(_card_recognizer())
    recognizers += [
        _OfflineEmailRecognizer(),
        _obfuscated_email_recognizer(),
        predefined.PhoneRecognizer(supported_regions=list(config.phone_regions)),
        _phone_shape_recognizer(),
        _street_address_recognizer(),
    ]
    for recognizer in recognizers:
        registry.add_recognizer(recognizer)
    return AnalyzerEngine(registry=registry, nlp_engine=_BlankSpacyEngine(), supported_languages=["en"])


@dataclass(frozen=True)
class Finding:
    kind: str  # one of PII_KINDS, or "injection"
    start: int
    end: int
    text: str
    detail: str = ""  # Presidio's entity type, or the injection rule


def _contained(inner: RecognizerResult, results: list[RecognizerResult]) -> bool:
    return any(
        o.start <= inner.start and inner.end <= o.end and o.end - o.start > inner.end - inner.start for o in results
    )


def _non_overlapping(results: list[RecognizerResult]) -> list[RecognizerResult]:
    """A span inside another finding's span gives way to it (the NHS-shaped tail of "+44 (0)161 832 0742" to
    the phone number, the Aadhaar-shaped head of a card to the card); other overlaps go to the higher score,
    then the longer span."""
    kept: list[RecognizerResult] = []
    outer = [r for r in results if not _contained(r, results)]
    for result in sorted(outer, key=lambda r: (-r.score, -(r.end - r.start), r.start)):
        if all(result.end <= k.start or result.start >= k.end for k in kept):
            kept.append(result)
    return sorted(kept, key=lambda r: r.start)


_DIGITS_BEFORE = re.compile(r"\d[ .\-]?$")
_DIGITS_AFTER = re.compile(r"^[ .\-]?\d")


def _fragment_of_longer_number(text: str, result: RecognizerResult) -> bool:
    """An ID-shaped run inside a longer number ("4539 1488 0343" of a 16-digit reference whose Luhn check
    failed) is a fragment, not an identifier: real identifiers stand on their own."""
    edges = text[result.start] + text[result.end - 1]
    if not edges.isdigit():
        return False
    return bool(_DIGITS_BEFORE.search(text[: result.start]) or _DIGITS_AFTER.search(text[result.end :]))


def find_pii(text: str, analyzer: AnalyzerEngine, threshold: float) -> list[Finding]:
    results = analyzer.analyze(text, language="en", score_threshold=threshold)
    results = [r for r in results if not _fragment_of_longer_number(text, r)]
    return [
        Finding(kind_of(r.entity_type), r.start, r.end, text[r.start : r.end], r.entity_type)
        for r in _non_overlapping(results)
    ]


def placeholder(kind: str) -> str:
    return f"[{kind.upper()}]"


def redact(text: str, findings: list[Finding]) -> str:
    for finding in sorted(findings, key=lambda f: f.start, reverse=True):
        text = text[: finding.start] + placeholder(finding.kind) + text[finding.end :]
    return text
