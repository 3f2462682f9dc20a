"""Reference-free hallucination check of a support answer against its retrieved context.

An answer hallucinates when it states a fact (price, number, duration, data size, percentage, named entity)
that the context does not contain, states one the context does contain but of something else (the context
clause closest in meaning to the answer's clause states another value), says the opposite of the context
clause closest in meaning (one negated, the other not), or has a sentence whose content words the context
barely covers. Facts are normalised before comparison, so "two weeks" matches "14 days", "$0.45" matches
"45 cents" and "20GB" matches "20 gigabytes". Abstentions never hallucinate. The check sees only (answer,
context): words the answer repeats from the question count as support only when the context has them too.
Closeness in meaning is the cosine of all-MiniLM-L6-v2 sentence embeddings (ml_platform.embeddings).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ml_platform.config.assistant import HallucinationDetector


@dataclass(frozen=True)
class Fact:
    kind: str  # money | number | duration | data_size | percentage | entity
    text: str
    value: str  # normalised, e.g. "money:1500", "duration:14d", "data:20gb"


@dataclass
class HallucinationVerdict:
    hallucinated: bool
    abstained: bool
    unsupported_facts: list[Fact]
    unsupported_sentences: list[str]
    reasons: list[str]


# -- numbers ---------------------------------------------------------------------------------------------------
# Word lists are written as one string for readability; the split is deliberate.
_ONES = (
    "zero one two three four five six seven eight nine ten "
    "eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen"
)
_TENS = "twenty thirty forty fifty sixty seventy eighty ninety"
_UNITS_WORDS = {w: i for i, w in enumerate(_ONES.split())}
_TENS_WORDS = {w: 10 * i for i, w in enumerate(_TENS.split(), 2)}
_WORD_NUMBER = (
    rf"(?:(?:{'|'.join(_TENS_WORDS)})(?:[\s-](?:{'|'.join(w for w in _UNITS_WORDS if w != 'zero')}))?"
    rf"|{'|'.join(sorted(_UNITS_WORDS, key=len, reverse=True))}|a\s+hundred|one\s+hundred)"
)
_DIGITS = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_NUM = rf"(?:{_DIGITS}|{_WORD_NUMBER})"


def _to_number(text: str) -> Decimal:
    """Digits ("1,500.00") or English number words ("twenty-four", "a hundred") as a Decimal."""
    text = text.lower().replace(",", "").strip()
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        return Decimal(text)
    if text.endswith("hundred"):
        return Decimal(100)
    return Decimal(sum(_TENS_WORDS.get(p, 0) + _UNITS_WORDS.get(p, 0) for p in re.split(r"[\s-]+", text)))


def _fmt(number: Decimal) -> str:
    # normalize() alone would print 1500 as "1.5E+3"; quantize back to an integer when it is one.
    return str(number.quantize(Decimal(1)) if number == number.to_integral() else number.normalize())


# -- fact patterns: each returns (kind, normalised value) for a match ------------------------------------------
_MONEY_SYMBOL = re.compile(rf"\$\s?({_DIGITS})(?!\d)")
_MONEY_WORDS = re.compile(rf"\b({_NUM})[\s-]+(dollars?|cents?|usd)\b", re.IGNORECASE)
# "free" is a price too: "the extension is free" contradicts "an extension costs $4".
_MONEY_FREE = re.compile(
    r"(?<![\w-])(?:(?<!feel\s)free(?:\s+of\s+charge)?(?!\s+(?:to|up)\b)|no\s+(?:extra\s+|additional\s+)?(?:fee|charge|cost))\b",
    re.IGNORECASE,
)
_PERCENT = re.compile(rf"\b({_NUM})\s?(%|percent\b|per\s+cent\b)", re.IGNORECASE)
_DATA_UNITS = {
    "gb": "gb",
    "gigabyte": "gb",
    "gigabytes": "gb",
    "gig": "gb",
    "gigs": "gb",
    "mb": "mb",
    "megabyte": "mb",
    "megabytes": "mb",
    "tb": "tb",
    "terabyte": "tb",
    "terabytes": "tb",
    "kb": "kb",
    "mbps": "mbps",
    "kbps": "kbps",
    "gbps": "gbps",
}
_DATA = re.compile(rf"\b({_NUM})\s?({'|'.join(_DATA_UNITS)})\b", re.IGNORECASE)
_MINUTES = {"minute": 1, "min": 1, "hour": 60, "hr": 60, "day": 1440, "week": 10080}
_MONTHS = {"month": 1, "year": 12, "yr": 12}
_DURATION_UNIT = r"(minutes?|mins?|hours?|hrs?|days?|weeks?|months?|years?|yrs?)"
_DURATION = re.compile(rf"\b({_NUM})[\s-]+{_DURATION_UNIT}\b", re.IGNORECASE)
# "within a week" is a duration, but "$12 a day" is a rate: count "a/an" only after a time preposition.
_DURATION_A = re.compile(rf"\b(?:within|for|after|in|over|about|around)\s+(an?)\s+{_DURATION_UNIT}\b", re.IGNORECASE)
# Durations said without a number: "done the same day" contradicts "completed within 5 days".
_DURATION_WORDS = {
    "immediately": "immediate",
    "instantly": "immediate",
    "right away": "immediate",
    "same day": "same-day",
    "same-day": "same-day",
    "next day": "next-day",
    "next-day": "next-day",
    "overnight": "next-day",
}
_DURATION_VAGUE = re.compile(rf"\b(?:{'|'.join(_DURATION_WORDS)})\b", re.IGNORECASE)
# Bare numbers: not glued to letters ("5G", "eSIM2") and not part of "24/7"-style tokens.
_BARE_DIGITS = re.compile(rf"(?<![\w$.,/])({_DIGITS})(?![\w%/]|[.,]\d)")
# "one" is left out on purpose: "one account", "one-time" and "one of" are rarely a stated quantity.
_BARE_WORDS = re.compile(rf"\b((?!one\b){_WORD_NUMBER})\b(?![\s-]+(?:time|off)\b)", re.IGNORECASE)


def _money(match: re.Match[str]) -> str:
    amount = _to_number(match.group(1))
    unit = match.group(2).lower() if match.re is _MONEY_WORDS else "$"
    return f"money:{_fmt(amount / 100 if unit.startswith('cent') else amount)}"


def _duration(match: re.Match[str]) -> str:
    count = Decimal(1) if match.re is _DURATION_A else _to_number(match.group(1))
    unit = match.group(2).lower().rstrip("s")
    if unit in _MONTHS:
        return f"duration:{_fmt(count * _MONTHS[unit])}mo"
    minutes = count * _MINUTES[unit]
    # Render in the largest unit that divides evenly, so "24 hours" and "one day" meet as "1d".
    for suffix, size in (("d", 1440), ("h", 60)):
        if minutes % size == 0:
            return f"duration:{_fmt(minutes / size)}{suffix}"
    return f"duration:{_fmt(minutes)}min"


_TYPED: tuple[tuple[str, re.Pattern[str], Callable[[re.Match[str]], str]], ...] = (
    ("money", _MONEY_SYMBOL, _money),
    ("money", _MONEY_WORDS, _money),
    ("money", _MONEY_FREE, lambda m: "money:0"),
    ("percentage", _PERCENT, lambda m: f"pct:{_fmt(_to_number(m.group(1)))}"),
    ("data_size", _DATA, lambda m: f"data:{_fmt(_to_number(m.group(1)))}{_DATA_UNITS[m.group(2).lower()]}"),
    ("duration", _DURATION, _duration),
    ("duration", _DURATION_A, _duration),
    ("duration", _DURATION_VAGUE, lambda m: f"duration:{_DURATION_WORDS[' '.join(m.group(0).lower().split())]}"),
    ("number", _BARE_DIGITS, lambda m: f"number:{_fmt(_to_number(m.group(1)))}"),
    ("number", _BARE_WORDS, lambda m: f"number:{_fmt(_to_number(m.group(1)))}"),
)


def _numeric_facts(text: str) -> list[tuple[int, int, Fact]]:
    """Typed facts first; a later pattern never claims characters an earlier one already matched."""
    taken: list[tuple[int, int, Fact]] = []
    for kind, pattern, normalise in _TYPED:
        for match in pattern.finditer(text):
            start, end = match.span()
            if all(end <= s or start >= e for s, e, _ in taken):
                taken.append((start, end, Fact(kind, match.group(0), normalise(match))))
    return sorted(taken, key=lambda t: t[0])


# -- sentences, entities and content words ----------------------------------------------------------------------
# Sentence ends, and line breaks too: LLM answers often come as bullet lists.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(]?[A-Z0-9])|\s*\n\s*(?:[-*•]\s+)?")
_TOKEN = re.compile(r"[A-Za-z0-9][\w'’&]*")
_STOP_TEXT = """
    a about above after again all also am an and any are as at be because been before being below between both
    but by can can't cannot could couldn't did didn't do does doesn't doing don't down during each either even
    ever every few for from further get gets got had has have having he her here hers him his how however i i'd
    i'll i'm i've if in into is isn't it it's its itself just let's like may me might more most much must my
    no nor not now of off on once one only or other our ours out over own per please same shall she should so
    some such than that that's the their theirs them then there there's these they this those through to too
    under until up upon us very via was wasn't we we're were what what's when where which while who whom why
    will with within without won't would you you'd you'll you're you've your yours yourself"""
# Assistant pleasantries ("Hope this helps!", "Let me know if you have other questions") state nothing.
_PLEASANTRIES = "anything assist else found glad happy help helps hope know question questions thank thanks welcome"
_STOP_WORDS = frozenset(_STOP_TEXT.split() + _PLEASANTRIES.split())


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text.strip()) if s.strip()]


def _is_capitalised(token: str) -> bool:
    return any(c.isupper() for c in token)


def _entities(sentence: str) -> Iterator[Fact]:
    """Runs of capitalised tokens; the sentence's first word is skipped because grammar capitalises it.

    Numeric facts are blanked first so "20GB" or "5G" never pose as names, and the blank splits a run.
    """
    sentence = _blank(sentence, ((s, e) for s, e, _ in _numeric_facts(sentence)), keep_length=True)
    run: list[str] = []
    matches = list(_TOKEN.finditer(sentence))
    for i, match in enumerate(matches):
        token = re.sub(r"['’]s$", "", match.group())
        adjacent = i > 0 and sentence[matches[i - 1].end() : match.start()] == " "
        if match.start() > 0 and _is_capitalised(token) and token not in {"I", "I'm", "I've", "I'd", "I'll"}:
            if run and not adjacent:
                yield _entity(run)
                run = []
            run.append(token)
        elif run:
            yield _entity(run)
            run = []
    if run:
        yield _entity(run)


def _entity(words: list[str]) -> Fact:
    text = " ".join(words)
    return Fact("entity", text, f"entity:{text.lower()}")


def _stem(word: str) -> str:
    """A crude suffix stripper: enough for "topping"/"top", "verified"/"verify", "charged"/"charge"."""
    word = word.lower().replace("’", "'").removesuffix("'s")
    for suffix, repl in (("ies", "y"), ("ied", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
            word = word[: -len(suffix)] + repl
            break
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeiouls":
        word = word[:-1]  # undouble: "topp" -> "top"
    return word.removesuffix("e")


def _content_words(text: str) -> set[str]:
    words = (w.lower() for w in re.findall(r"[A-Za-z][A-Za-z'’]*", text))
    return {_stem(w) for w in words if len(w) >= 3 and w.replace("’", "'") not in _STOP_WORDS}


def _blank(text: str, spans: Iterable[tuple[int, int]], keep_length: bool = False) -> str:
    for start, end in sorted(spans, reverse=True):
        text = text[:start] + (" " * (end - start) if keep_length else " ") + text[end:]
    return text


# -- public API --------------------------------------------------------------------------------------------------
def numeric_facts(text: str) -> list[Fact]:
    """Money, percentages, data sizes, durations and bare numbers, normalised, in text order."""
    return [fact for _, _, fact in _numeric_facts(text)]


def extract_facts(text: str) -> list[Fact]:
    """Numeric facts (money, percentage, data size, duration, number) then named entities, in text order."""
    return numeric_facts(text) + [entity for sentence in _sentences(text) for entity in _entities(sentence)]


_ABSTAIN = re.compile(
    r"\b(?:i\s+(?:do\s+not|don't|dont)\s+know"
    r"|i'?m\s+not\s+sure|i\s+am\s+not\s+sure"
    r"|(?:couldn't|could\s+not|can't|cannot|wasn't\s+able\s+to|was\s+unable\s+to)\s+(?:find|say|answer|tell)"
    r"|(?:articles?|help[\s-]?cent(?:re|er)|knowledge\s+base|documentation)\s+(?:do\s+not|don't|does\s+not|doesn't)"
    r"\s+(?:say|mention|cover|specify|include|contain|explain|answer)"
    r"|(?:isn't|is\s+not|aren't|are\s+not|not)\s+(?:covered|mentioned|specified|addressed)"
    r"|(?:no|don't\s+have\s+(?:any\s+)?|do\s+not\s+have\s+(?:any\s+)?)information\s+(?:about|on)"
    r")",
    re.IGNORECASE,
)


def is_abstention(answer: str) -> bool:
    """An "I don't know" answer. A hedge that still states a number ("not sure, maybe $20") is no abstention."""
    text = answer.replace("’", "'")
    return _ABSTAIN.search(text) is not None and not _numeric_facts(text)


def _fact_supported(fact: Fact, context_values: set[str], context_numbers: set[str], context_lower: str) -> bool:
    if fact.kind == "entity":
        # The whole name, or each of its words: "eSIM QR code" is grounded by "eSIM ... a QR code", while an
        # invented name ("Unlimited Max", "Global Talk Connect") almost always brings a word of its own.
        pieces = [fact.text.lower(), *fact.text.lower().split()]
        found = {p for p in pieces if re.search(rf"(?<!\w){re.escape(p)}(?!\w)", context_lower)}
        return pieces[0] in found or set(pieces[1:]) <= found
    if fact.kind == "number":
        # A bare count may sit under any unit in the context ("5 lines", "5 attempts").
        return fact.value.split(":", 1)[1] in context_numbers
    return fact.value in context_values


def _sentence_support(sentence: str, context_words: set[str], min_words: int) -> float | None:
    words = _content_words(_blank(sentence, ((s, e) for s, e, _ in _numeric_facts(sentence))))
    return len(words & context_words) / len(words) if len(words) >= min_words else None


# -- attribution: a number must be said of what the context says it of --------------------------------------
# Clauses: sentences, and the parts of a sentence joined by "and"/"but"/"while" (each usually states one fact).
_CLAUSE_BREAK = re.compile(
    r"(?<=[.!?;:])\s+|\n+|,\s+(?=(?:and|but|while|whereas|so|or)\b)"
    r"|\s+(?=(?:and|but|while|whereas)\s+(?:the|a|an|you|your|it|we|calls|data|texts)\b)"
)


def _clauses(text: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for match in _CLAUSE_BREAK.finditer(text):
        spans.append((start, match.start()))
        start = match.end()
    spans.append((start, len(text)))
    return [(s, e) for s, e in spans if text[s:e].strip()]


def _magnitude(value: str) -> str:
    """ "data:50gb" -> "50": a bare number in one text may be a typed one in the other."""
    found = re.match(r"[\d.]+", value.split(":", 1)[1])
    return found.group() if found else value


def states(facts: list[Fact], fact: Fact) -> bool:
    """Whether `facts` state `fact`'s value (a bare number states the same magnitude of a typed one)."""
    return any(
        f.value == fact.value or ("number" in (f.kind, fact.kind) and _magnitude(f.value) == _magnitude(fact.value))
        for f in facts
    )


_VECTORS: dict[str, Any] = {}  # clause -> its sentence embedding, per process (contexts repeat across answers)


def _vectors(texts: list[str]) -> list[Any]:
    """Sentence embeddings of the texts, the ones not seen before in one batch."""
    from ml_platform.embeddings import get_embedder  # sentence-transformers: loaded on the first number checked

    new = sorted({t for t in texts if t not in _VECTORS})
    if new:
        if len(_VECTORS) > 20_000:
            _VECTORS.clear()
        _VECTORS.update(zip(new, get_embedder().embed(new), strict=True))
    return [_VECTORS[t] for t in texts]


def _misattributed(answer: str, context: str, margin: float) -> list[Fact]:
    """Facts whose value the context states, but in another clause than the one the answer's clause is about.

    Each answer clause is matched, by sentence-embedding similarity, to the context clauses carrying a fact of
    the same kind; when the closest states another value and beats every clause stating this one by more than
    `margin`, the number is bound to the wrong thing ("Up to 15 devices can connect" where the closest clause
    says 10 devices, and 15 is the hotspot allowance). Embeddings rather than shared words, so a paraphrase
    ("valid for 30 days" of "data for 30 days") still finds its clause.
    """
    context_facts = _numeric_facts(context)
    carrying = []
    for start, end in _clauses(context):
        inside = [f for s, e, f in context_facts if s >= start and e <= end]
        if inside:
            carrying.append((context[start:end].strip(), inside))
    answer_facts = _numeric_facts(answer)
    claims = [
        (answer[start:end].strip(), [f for s, e, f in answer_facts if s >= start and e <= end])
        for start, end in _clauses(answer)
    ]
    claims = [(clause, facts) for clause, facts in claims if facts]
    if not claims or not carrying:
        return []
    vectors = dict(zip(texts := [c for c, _ in claims] + [t for t, _ in carrying], _vectors(texts), strict=True))
    wrong: list[Fact] = []
    for clause, facts in claims:
        for fact in facts:
            kin = [
                (text, found)
                for text, found in carrying
                if fact.kind == "number" or any(f.kind in (fact.kind, "number") for f in found)
            ]
            stating = [i for i, (_, found) in enumerate(kin) if states(found, fact)]
            if not stating:
                continue  # not in the context at all: the fact check has already said so
            similarity = [float(vectors[clause] @ vectors[text]) for text, _ in kin]
            closest = max(range(len(kin)), key=similarity.__getitem__)
            if closest not in stating and similarity[closest] - max(similarity[i] for i in stating) > margin:
                wrong.append(fact)
    return wrong


# -- contradiction: the answer says of something the opposite of what the context says -------------------------
# Verbal negation only: "no extra charge" or "without a pass" negate a noun, not the statement.
_NEGATION = re.compile(r"\b(?:not|never|cannot|no\s+longer)\b|n['’]t\b", re.IGNORECASE)
# A condition's own negation ("if we have not received your payment, ...") says nothing about the statement.
_CONDITION = re.compile(r"\b(?:if|unless|when|whether|without)\b[^,.;]*", re.IGNORECASE)
# A reply's "Yes," / "No," answers the question; the statement after it is what is checked.
_REPLY_WORD = re.compile(r"^\s*(?:yes|no|nope|yep|sure|sorry)\b[,.!]?\s*", re.IGNORECASE)


def _negated(clause: str) -> bool:
    return len(_NEGATION.findall(_CONDITION.sub(" ", clause))) % 2 == 1


def _contradicted(answer: str, context: str, min_similarity: float) -> list[tuple[str, str]]:
    """(answer clause, context clause) pairs where the context clause closest in meaning (at least
    `min_similarity`) says the same thing with the opposite polarity ("unused days carry over" against "unused
    days do not carry over")."""
    claims = [_REPLY_WORD.sub("", answer[s:e].strip()) for s, e in _clauses(answer)]
    claims = [c for c in claims if len(_content_words(c)) >= 2]
    passages = [context[s:e].strip() for s, e in _clauses(context)]
    if not claims or not passages:
        return []
    vectors = _vectors(claims + passages)
    found = []
    for index, claim in enumerate(claims):
        similarity = [float(vectors[index] @ v) for v in vectors[len(claims) :]]
        closest = max(range(len(passages)), key=similarity.__getitem__)
        if similarity[closest] >= min_similarity and _negated(claim) != _negated(passages[closest]):
            found.append((claim, passages[closest]))
    return found


def detect_hallucination(answer: str, context: str, detector: HallucinationDetector) -> HallucinationVerdict:
    """Verdict for one answer given the passages it was generated from, with the detector's thresholds."""
    if is_abstention(answer):
        return HallucinationVerdict(False, True, [], [], ["abstention"])
    context_facts = [fact for _, _, fact in _numeric_facts(context)]
    context_values = {f.value for f in context_facts}
    # Every number the context spells, whatever unit follows it: "24 hours" normalises to "1d" but still says 24.
    context_numbers = {_fmt(_to_number(m.group())) for m in re.finditer(rf"\b{_NUM}\b", context, re.IGNORECASE)}
    context_lower = " ".join(context.lower().split())
    context_words = _content_words(context)

    unsupported_facts = [
        f for f in extract_facts(answer) if not _fact_supported(f, context_values, context_numbers, context_lower)
    ]
    reasons = [f"{f.kind} {f.text!r} ({f.value}) is not in the context" for f in unsupported_facts]
    if detector.attribution_margin is not None:
        for fact in _misattributed(answer, context, detector.attribution_margin):
            if fact not in unsupported_facts:
                unsupported_facts.append(fact)
                reasons.append(f"{fact.kind} {fact.text!r} is in the context, but said of something else there")
    unsupported_sentences = []
    if detector.contradiction_similarity is not None:
        for claim, passage in _contradicted(answer, context, detector.contradiction_similarity):
            unsupported_sentences.append(claim)
            reasons.append(f"{claim!r} says the opposite of the context's {passage!r}")
    for sentence in _sentences(answer):
        support = _sentence_support(sentence, context_words, detector.min_content_words)
        if support is not None and support < detector.min_sentence_support:
            unsupported_sentences.append(sentence)
            reasons.append(f"only {support:.0%} of the content words of {sentence!r} occur in the context")
    hallucinated = bool(unsupported_facts or unsupported_sentences)
    return HallucinationVerdict(hallucinated, False, unsupported_facts, unsupported_sentences, reasons)
