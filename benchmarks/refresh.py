"""Incremental index refresh against a full rebuild, at a knowledge base of several thousand chunks.

The demo KB (a few dozen articles) is widened to `--articles` articles by numbered copies whose text differs
(so no two chunks share a vector), indexed once, then refreshed with 0 %, 1 % and 10 % of the articles edited.
The bare baseline is the embedding model encoding the same changed chunks, nothing else.

    python benchmarks/refresh.py [--articles 2000]    (prints one JSON line)
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import pandas as pd

from ml_platform.datasets.scenario import Scenario
from ml_platform.datasets.support import generate_support
from ml_platform.embeddings import get_embedder
from ml_platform.retrieval.chunking import chunk_articles
from ml_platform.retrieval.index import refresh_index
from ml_platform.retrieval.stores import open_vector_store

DAY = date(2026, 11, 20)


def wide_kb(articles: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    tables = generate_support(DAY, 7, Scenario())[0]
    kb, questions = tables["support_kb"], tables["support_eval"]
    copies = [kb] + [
        kb.assign(
            article_id=kb["article_id"] + f"-{n:04d}",
            title=kb["title"] + f" (region {n})",
            body=kb["body"] + f" This applies to customers of region {n}, branch {n * 7 % 1000}.",
        )
        for n in range(1, -(-articles // len(kb)))
    ]
    return pd.concat(copies, ignore_index=True).head(articles), questions


def edited(kb: pd.DataFrame, share: float) -> pd.DataFrame:
    changed = kb.copy()
    rows = changed.sample(frac=share, random_state=1).index if share else []
    changed.loc[rows, "body"] = changed.loc[rows, "body"] + " Updated terms apply from next month."
    changed.loc[rows, "version"] = changed.loc[rows, "version"] + 1
    return changed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", type=int, default=2000)
    args = parser.parse_args()
    kb, questions = wide_kb(args.articles)
    embedder = get_embedder()
    embedder.embed(["warm-up"])
    results = {"articles": len(kb), "chunks": len(chunk_articles(kb))}
    with tempfile.TemporaryDirectory() as scratch, open_vector_store(str(Path(scratch) / "vectors")) as store:
        started = time.perf_counter()
        # Floor 0: near-copies crowd the originals out of the top k, and the hit rate is not what is measured.
        refresh = functools.partial(refresh_index, store, hit_rate_floor=0.0, embedder=embedder)
        full = refresh(kb, questions, DAY)
        results["full"] = {"seconds": time.perf_counter() - started, "embedded": full.embedded, "steps": full.seconds}
        for n, share in enumerate((0.0, 0.01, 0.10), start=1):
            changed = edited(kb, share)
            before = {c.chunk_id: c.content_hash for c in chunk_articles(kb)}
            to_embed = [c.text for c in chunk_articles(changed) if before.get(c.chunk_id) != c.content_hash]
            started = time.perf_counter()
            report = refresh(changed, questions, DAY + timedelta(days=n))
            ours = time.perf_counter() - started
            started = time.perf_counter()
            if to_embed:
                embedder.embed(to_embed)
            bare = time.perf_counter() - started
            results[f"{share:.0%}"] = {
                "seconds": ours,
                "embedded": report.embedded,
                "bare_encode_seconds": bare,
                "bare_encoded": len(to_embed),
                "share_of_full": ours / results["full"]["seconds"],
                "steps": report.seconds,
            }
            kb = changed
    json.dump(results, sys.stdout)
    print()


if __name__ == "__main__":
    main()
