"""Blue/green incremental refresh of the help-centre index, and the retriever that reads the live index.

Each night the KB is chunked and screened, diffed against the LIVE index by content hash, and only new or
changed chunks are embedded. The changes are applied to a copy of the live index built aside; it replaces the
live one only if retrieval quality (hit rate@k on the answerable eval questions) clears a floor. Readers
therefore always see a complete, checked index, and the previous live index is kept for rollback.
"""

from __future__ import annotations

import dataclasses
import math
import re
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import pandas as pd

from ml_platform.embeddings import Embedder, get_embedder
from ml_platform.errors import IndexMissing
from ml_platform.retrieval.chunking import Chunk, chunk_articles
from ml_platform.retrieval.stores import Hit, VectorRecord, VectorStore, open_vector_store

INDEX_PREFIX = "kb_"
# Only indexes this module names are ever pruned, so other tables sharing the store are left alone.
_OWN_INDEX = re.compile(rf"^{INDEX_PREFIX}(?P<day>\d{{8}})(?:_b)?$")


@dataclass
class RefreshReport:
    """What a refresh did. `promoted` is True when, after the run, the live index holds this KB and cleared the
    floor: either it was switched to `index_name`, or nothing changed and the current live index re-passed;
    never for a backfill or a day older than the live index's (those are `recorded_only`)."""

    day: date
    live_before: str | None
    live_after: str | None
    index_name: str
    chunks_total: int  # chunks cut from the KB, blocked ones included
    embedded: int  # chunks embedded by this run (new or changed)
    deleted: int  # chunk ids removed: their article was retired, shortened or blocked
    unchanged: int  # chunks whose vector was carried over from the live index
    blocked: list[str]  # chunk ids not indexed because the guardrails found a prompt injection
    redactions: int  # PII spans replaced by placeholders in the chunks this run screened (new or edited)
    hit_rate: float
    hit_rate_floor: float
    k: int
    promoted: bool
    reason: str
    recorded_only: bool = False  # checked, but not allowed to go live or be announced (a backfill, an older day)
    vectors: int = 0  # vectors in `index_name` after the run
    elapsed_s: float = 0.0
    embedding_model: str = ""
    embedding_version: str = ""
    seconds: dict[str, float] = field(default_factory=dict)  # time per step, for the run summary

    def as_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["day"] = self.day.isoformat()
        # NaN (no answerable eval question) is not valid JSON.
        out["hit_rate"] = None if math.isnan(self.hit_rate) else self.hit_rate
        return out


@dataclass(frozen=True)
class _Screened:
    indexable: list[Chunk]  # redacted text; content_hash still of the original so diffs stay exact
    blocked: list[str]
    redactions: int


def _screen_chunks(chunks: list[Chunk]) -> _Screened:
    """Only redacted text is embedded and stored; a chunk carrying an injection would poison answers."""
    from ml_platform.guardrails.screening import screen  # Presidio and spaCy: seconds, only when indexing

    indexable: list[Chunk] = []
    blocked: list[str] = []
    redactions = 0
    for chunk in chunks:
        result = screen(chunk.text)
        if result.blocked:
            blocked.append(chunk.chunk_id)
            continue
        redactions += len(result.pii)
        indexable.append(dataclasses.replace(chunk, text=result.text, title=screen(chunk.title).text))
    return _Screened(indexable, blocked, redactions)


def _same_model(store: VectorStore, index: str, embedder: Embedder) -> bool:
    """Vectors from another model (or model version) are not comparable: such an index is rebuilt, not patched."""
    return all(
        r.embedding_model == embedder.model_name and r.embedding_version == embedder.model_version
        for r in store.records(index)
    )


def _to_records(chunks: list[Chunk], embedder: Embedder) -> list[VectorRecord]:
    vectors = embedder.embed([c.text for c in chunks])
    return [
        VectorRecord(
            chunk_id=c.chunk_id,
            article_id=c.article_id,
            title=c.title,
            text=c.text,
            content_hash=c.content_hash,
            article_version=c.article_version,
            vector=vector,
            embedding_model=embedder.model_name,
            embedding_version=embedder.model_version,
        )
        for c, vector in zip(chunks, vectors, strict=True)
    ]


def index_day(name: str | None) -> date | None:
    """The KB day an index of ours was built from (None for an index this module did not name)."""
    match = _OWN_INDEX.match(name or "")
    return datetime.strptime(match["day"], "%Y%m%d").date() if match else None


def aside_name(day: date, live: str | None) -> str:
    """`kb_<YYYYMMDD>`, so a rerun of a day replaces its own aside index; `_b` when that name is live."""
    name = f"{INDEX_PREFIX}{day:%Y%m%d}"
    return f"{name}_b" if name == live else name


def _prune(store: VectorStore, keep: set[str | None]) -> list[str]:
    """Drop superseded indexes of ours; the previous live one is in `keep` so a rollback stays possible."""
    dropped = [name for name in store.list_indexes() if _OWN_INDEX.match(name) and name not in keep]
    for name in dropped:
        store.drop_index(name)
    return dropped


def hit_rate_at_k(
    store: VectorStore, index_name: str, eval_questions: pd.DataFrame, k: int, embedder: Embedder | None = None
) -> float:
    """Share of answerable eval questions whose gold article is among the articles of the top-k hits (NaN if none)."""
    answerable = eval_questions[eval_questions["answerable"].astype(bool) & eval_questions["article_id"].notna()]
    if answerable.empty:
        return float("nan")
    vectors = (embedder or get_embedder()).embed(answerable["question"].astype(str).tolist())
    found = sum(
        gold in {hit.article_id for hit in store.search(index_name, vector, k)}
        for gold, vector in zip(answerable["article_id"], vectors, strict=True)
    )
    return found / len(answerable)


def _verdict(hit_rate: float, floor: float, k: int) -> tuple[bool, str]:
    if math.isnan(hit_rate):
        return False, "no answerable eval questions: retrieval quality cannot be checked"
    if hit_rate >= floor:
        return True, f"hit rate@{k} {hit_rate:.3f} >= floor {floor:.3f}"
    return False, f"hit rate@{k} {hit_rate:.3f} is below the floor {floor:.3f}"


@dataclass
class _Plan:
    """What a refresh must do to bring the live index up to the KB."""

    chunks: list[Chunk]
    screened: _Screened  # the new or edited chunks, screened
    base: str | None  # the index to copy from (None: rebuild everything)
    changed: list[Chunk]  # new or edited chunks to embed (screened: redacted, injections left out)
    stale: list[str]  # chunk ids to delete
    unchanged: int  # chunks carried over from the base as they are

    @property
    def nothing_to_do(self) -> bool:
        return self.base is not None and not self.changed and not self.stale


def _plan(store: VectorStore, kb: pd.DataFrame, live: str | None, embedder: Embedder) -> _Plan:
    chunks = chunk_articles(kb)
    # The diff base: the live index, unless its vectors came from another model and must all be redone.
    base = live if live is not None and _same_model(store, live, embedder) else None
    live_hashes = store.hashes(base) if base is not None else {}
    # Hashes are of the original text, so an unchanged chunk is known without screening it again: only new or
    # edited chunks go through the screener (about 15 ms a chunk; screening every chunk made a refresh with
    # nothing changed cost most of a full rebuild, measured by benchmarks/refresh.py).
    unchanged = {c.chunk_id for c in chunks if live_hashes.get(c.chunk_id) == c.content_hash}
    screened = _screen_chunks([c for c in chunks if c.chunk_id not in unchanged])
    stale = sorted(set(live_hashes) - unchanged - {c.chunk_id for c in screened.indexable})
    return _Plan(chunks, screened, base, screened.indexable, stale, len(unchanged))


def _build_aside(store: VectorStore, name: str, plan: _Plan, embedder: Embedder, seconds: dict[str, float]) -> int:
    """The next index under `name`: a copy of the base without stale chunks, plus the changed ones embedded."""
    tick = time.perf_counter()
    if name in store.list_indexes():
        store.drop_index(name)  # a rerun of the day replaces its own aside index
    store.create_index(name, copy_from=plan.base)
    store.delete(name, plan.stale)
    seconds["copy"] = time.perf_counter() - tick
    tick = time.perf_counter()
    records = _to_records(plan.changed, embedder)
    seconds["embed"] = time.perf_counter() - tick
    tick = time.perf_counter()
    store.upsert(name, records)
    seconds["upsert"] = time.perf_counter() - tick
    return len(records)


def refresh_index(
    store: VectorStore,
    kb: pd.DataFrame,
    eval_questions: pd.DataFrame,
    day: date,
    *,
    k: int = 4,
    hit_rate_floor: float = 0.8,
    embedder: Embedder | None = None,
    may_go_live: bool = True,
) -> RefreshReport:
    """Bring the live index up to `kb` by blue/green switch, embedding only new or changed chunks.

    With `may_go_live` false (a backfill), or when `day` is older than the live index's own day, the next
    index is built and checked but never made live: production only moves forward.
    """
    started = time.perf_counter()
    embedder = embedder or get_embedder()
    seconds: dict[str, float] = {}
    live = store.live_index()
    tick = time.perf_counter()
    plan = _plan(store, kb, live, embedder)
    seconds["plan"] = time.perf_counter() - tick
    common = {
        "day": day,
        "live_before": live,
        "chunks_total": len(plan.chunks),
        "unchanged": plan.unchanged,
        "blocked": plan.screened.blocked,
        "redactions": plan.screened.redactions,
        "hit_rate_floor": hit_rate_floor,
        "k": k,
        "embedding_model": embedder.model_name,
        "embedding_version": embedder.model_version,
        "seconds": seconds,
    }
    # Nothing to apply: re-check the live index instead of copying it under a new name.
    name = plan.base if plan.nothing_to_do else aside_name(day, live)
    embedded = 0 if plan.nothing_to_do else _build_aside(store, name, plan, embedder, seconds)
    tick = time.perf_counter()
    hit_rate = hit_rate_at_k(store, name, eval_questions, k, embedder)
    seconds["evaluate"] = time.perf_counter() - tick
    passed, verdict = _verdict(hit_rate, hit_rate_floor, k)
    live_day = index_day(live)
    older = live_day is not None and day < live_day
    why = f"the live index {live!r} holds a later day ({live_day})" if older else "backfill runs never switch"
    # Held back even with nothing to do: a backfill's or an older day's run never announces the live index.
    recorded_only = passed and (older or not may_go_live)
    if plan.nothing_to_do:
        reason = f"no change since live index {name!r}, which stays live; {verdict}"
        reason += f"; recorded only: {why}" if recorded_only else ""
    elif recorded_only:
        reason = f"{verdict}: {name!r} recorded only, not made live: {why}"
    elif passed:
        store.set_live(name)
        _prune(store, keep={name, live})
        reason = f"{verdict}: {name!r} is live (was {live!r})"
    else:
        reason = f"{verdict}: live index {live!r} left unchanged, {name!r} kept for inspection"
    return RefreshReport(
        **common,
        live_after=name if (passed and not recorded_only) or plan.nothing_to_do else live,
        index_name=name,
        embedded=embedded,
        deleted=0 if plan.nothing_to_do else len(plan.stale),
        hit_rate=hit_rate,
        promoted=passed and not recorded_only,
        reason=reason,
        recorded_only=recorded_only,
        vectors=store.count(name),
        elapsed_s=time.perf_counter() - started,
    )


class Retriever:
    """Top-k search over one index, fixed when the retriever is made.

    Pinning the index name means a retriever opened before a switch keeps answering from the index it
    started with (still present as the rollback index), so one evaluation or chat never mixes two indexes.
    """

    def __init__(self, store: VectorStore, index_name: str | None = None, embedder: Embedder | None = None):
        resolved = index_name or store.live_index()
        if resolved is None:
            raise IndexMissing("the vector store has no live index yet: run kb_embedding_refresh first")
        self.store = store
        self.index_name: str = resolved
        self._embedder = embedder

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = get_embedder()  # loaded on first search, not when the retriever is made
        return self._embedder

    def search(self, question: str, k: int = 4) -> list[Hit]:
        return self.search_many([question], k)[0]

    def search_many(self, questions: list[str], k: int = 4) -> list[list[Hit]]:
        """One batched embedding for many questions: far cheaper than one model call per question."""
        vectors = self.embedder.embed(list(questions))
        return [self.store.search(self.index_name, vector, k) for vector in vectors]

    def close(self) -> None:
        self.store.close()


def open_live_retriever(vector_store_uri: str) -> Retriever:
    """A retriever on the live index at VECTOR_STORE_URI (a local LanceDB folder or weaviate://host:port)."""
    store = open_vector_store(vector_store_uri)
    try:
        return Retriever(store)
    except BaseException:
        store.close()
        raise
