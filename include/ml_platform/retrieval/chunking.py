"""Split KB articles into retrieval chunks whose ids and hashes stay stable across days.

A chunk id is `<article_id>#<n>` and its content hash covers only what the chunk says, so an article whose
version number moved but whose text did not keeps its hashes, and the nightly refresh embeds nothing for it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import pandas as pd

# Sentence ends followed by whitespace; KB prose has no abbreviations with inner periods worth protecting.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class Chunk:
    chunk_id: str
    article_id: str
    title: str
    text: str  # title line + body passage: the text that is screened, embedded and stored
    content_hash: str
    article_version: int


def content_hash(article_id: str, title: str, text: str) -> str:
    # A separator that cannot occur in prose keeps ("a", "bc") and ("ab", "c") from colliding.
    payload = "\x1f".join((article_id, title, text)).encode("utf-8")
    return hashlib.sha256(payload).hexdigest()


def _sentences(body: str) -> list[list[str]]:
    """Sentences as word lists; empty sentences dropped."""
    return [s.split() for s in _SENTENCE_END.split(body.strip()) if s.strip()]


def _split_long(words: list[str], max_words: int, overlap_words: int) -> list[list[str]]:
    """A sentence longer than a chunk falls back to a sliding word window."""
    step = max_words - overlap_words
    return [words[i : i + max_words] for i in range(0, max(len(words) - overlap_words, 1), step)]


def _tail(sentences: list[list[str]], budget: int) -> list[list[str]]:
    """Trailing whole sentences of a chunk that fit in the overlap budget (context for the next chunk)."""
    tail: list[list[str]] = []
    for sentence in reversed(sentences):
        if sum(map(len, tail)) + len(sentence) > budget:
            break
        tail.insert(0, sentence)
    return tail


def split_passages(body: str, max_words: int = 80, overlap_words: int = 20) -> list[str]:
    """Pack whole sentences into passages of at most max_words, repeating up to overlap_words between them.

    Sentence boundaries are kept because a fact cut mid-sentence embeds badly and reads badly when quoted.
    """
    if not 0 <= overlap_words < max_words:
        raise ValueError(f"need 0 <= overlap_words < max_words, got {overlap_words} and {max_words}")
    units: list[list[str]] = []
    for sentence in _sentences(body):
        units += _split_long(sentence, max_words, overlap_words) if len(sentence) > max_words else [sentence]
    passages: list[list[list[str]]] = []
    current: list[list[str]] = []
    for unit in units:
        if current and sum(map(len, current)) + len(unit) > max_words:
            passages.append(current)
            current = _tail(current, overlap_words)
            # The overlap must never stop the next sentence from fitting.
            while current and sum(map(len, current)) + len(unit) > max_words:
                current.pop(0)
        current.append(unit)
    if current:
        passages.append(current)
    return [" ".join(word for unit in passage for word in unit) for passage in passages]


def chunk_articles(kb: pd.DataFrame, max_words: int = 80, overlap_words: int = 20) -> list[Chunk]:
    """Chunks of every KB article, ordered by article id then position; bodies that are empty give none."""
    chunks: list[Chunk] = []
    for row in kb.sort_values("article_id").itertuples(index=False):
        article_id, title = str(row.article_id), str(row.title)
        body = row.body if isinstance(row.body, str) else ""  # a missing body (NaN/None) has nothing to retrieve
        for n, passage in enumerate(split_passages(body, max_words, overlap_words)):
            # The title leads every chunk: the body rarely names its topic as plainly as the title does.
            text = f"{title}\n{passage}"
            chunks.append(
                Chunk(
                    chunk_id=f"{article_id}#{n}",
                    article_id=article_id,
                    title=title,
                    text=text,
                    content_hash=content_hash(article_id, title, text),
                    article_version=int(row.version),
                )
            )
    return chunks
