"""One contract for every vector store backend: LanceDB always, Weaviate when WEAVIATE_URL names a server.

The `weaviate_offline` parameter drives WeaviateStore through an in-memory stand-in of the v4 client (see
conftest.py): it checks call shapes against the real client classes, not a server's behaviour.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

from ml_platform.retrieval import stores
from ml_platform.retrieval.stores import LanceDBStore, VectorRecord, VectorStore, WeaviateStore, open_vector_store

DIM = 384
MODEL = "test-model"
VERSION = "test-model==1.0"


def _vectors(n: int, seed: int = 0) -> np.ndarray:
    vectors = np.random.default_rng(seed).normal(size=(n, DIM)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _records(n: int, seed: int = 0, prefix: str = "kb-", text: str = "body") -> list[VectorRecord]:
    return [
        VectorRecord(
            chunk_id=f"{prefix}{i:04d}#0",
            article_id=f"{prefix}{i:04d}",
            title=f"Title {i}",
            text=f"{text} {i}",
            content_hash=f"hash-{text}-{i}",
            article_version=1,
            vector=vector,
            embedding_model=MODEL,
            embedding_version=VERSION,
        )
        for i, vector in enumerate(_vectors(n, seed))
    ]


def test_empty_store(store: VectorStore) -> None:
    assert isinstance(store, VectorStore)
    assert store.list_indexes() == []
    assert store.live_index() is None


def test_create_validates_names_and_refuses_duplicates(store: VectorStore) -> None:
    store.create_index("kb_a")
    assert store.list_indexes() == ["kb_a"]
    assert store.count("kb_a") == 0
    assert store.hashes("kb_a") == {}
    assert store.search("kb_a", _vectors(1)[0], 3) == []
    with pytest.raises(ValueError, match="already exists"):
        store.create_index("kb_a")
    for bad in ("KB", "1kb", "kb-a", ""):
        with pytest.raises(ValueError, match="invalid index name"):
            store.create_index(bad)


def test_missing_index_raises_key_error(store: VectorStore) -> None:
    for call in (
        lambda: store.count("nope"),
        lambda: store.hashes("nope"),
        lambda: store.upsert("nope", _records(1)),
        lambda: store.delete("nope", ["x"]),
        lambda: store.search("nope", _vectors(1)[0], 1),
        lambda: store.records("nope"),
        lambda: store.drop_index("nope"),
        lambda: store.set_live("nope"),
        lambda: store.create_index("kb_b", copy_from="nope"),
    ):
        with pytest.raises(KeyError):
            call()
    assert "kb_b" not in store.list_indexes()


def test_upsert_count_hashes_records(store: VectorStore) -> None:
    store.create_index("kb_a")
    records = _records(5)
    store.upsert("kb_a", records)
    assert store.count("kb_a") == 5
    assert store.hashes("kb_a") == {r.chunk_id: r.content_hash for r in records}
    stored = {r.chunk_id: r for r in store.records("kb_a")}
    assert set(stored) == {r.chunk_id for r in records}
    for original in records:
        copy = stored[original.chunk_id]
        # Every vector says which model and version made it, so a model change is detectable.
        assert (copy.embedding_model, copy.embedding_version) == (MODEL, VERSION)
        assert copy.properties() == original.properties()
        assert copy.vector.dtype == np.float32
        np.testing.assert_allclose(copy.vector, original.vector, atol=1e-6)


def test_upsert_replaces_by_chunk_id(store: VectorStore) -> None:
    store.create_index("kb_a")
    store.upsert("kb_a", _records(4))
    changed = _records(2, seed=9, text="edited")
    store.upsert("kb_a", changed)
    assert store.count("kb_a") == 4
    hashes = store.hashes("kb_a")
    assert [hashes[r.chunk_id] for r in changed] == ["hash-edited-0", "hash-edited-1"]
    stored = {r.chunk_id: r for r in store.records("kb_a")}
    np.testing.assert_allclose(stored[changed[0].chunk_id].vector, changed[0].vector, atol=1e-6)
    # One id twice in a batch: the last one wins, whatever the backend.
    store.upsert("kb_a", [_records(1, text="first")[0], _records(1, text="last")[0]])
    assert store.hashes("kb_a")["kb-0000#0"] == "hash-last-0"
    store.upsert("kb_a", [])
    assert store.count("kb_a") == 4


def test_search_is_cosine_ranked(store: VectorStore) -> None:
    store.create_index("kb_a")
    records = _records(20)
    store.upsert("kb_a", records)
    query = records[7].vector + 0.1 * _vectors(1, seed=3)[0]
    hits = store.search("kb_a", query, 5)
    assert len(hits) == 5
    assert hits[0].chunk_id == records[7].chunk_id
    assert (hits[0].article_id, hits[0].title, hits[0].text) == ("kb-0007", "Title 7", "body 7")
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)
    expected = {r.chunk_id: float(r.vector @ query / np.linalg.norm(query)) for r in records}
    for hit in hits:
        assert hit.score == pytest.approx(expected[hit.chunk_id], abs=1e-4)
    assert store.search("kb_a", records[3].vector, 1)[0].score == pytest.approx(1.0, abs=1e-4)
    assert len(store.search("kb_a", query, 50)) == 20


def test_delete(store: VectorStore) -> None:
    store.create_index("kb_a")
    records = _records(6)
    store.upsert("kb_a", records)
    store.delete("kb_a", [records[0].chunk_id, records[1].chunk_id, "kb-9999#0"])  # unknown ids are ignored
    store.delete("kb_a", [])
    assert store.count("kb_a") == 4
    assert records[0].chunk_id not in store.hashes("kb_a")
    assert records[0].chunk_id not in {h.chunk_id for h in store.search("kb_a", records[0].vector, 6)}


def test_create_index_copy_from_is_independent(store: VectorStore) -> None:
    store.create_index("kb_a")
    records = _records(8)
    store.upsert("kb_a", records)
    store.create_index("kb_b", copy_from="kb_a")
    assert store.hashes("kb_b") == store.hashes("kb_a")
    copied = {r.chunk_id: r for r in store.records("kb_b")}
    for original in records:
        assert copied[original.chunk_id].properties() == original.properties()
        np.testing.assert_allclose(copied[original.chunk_id].vector, original.vector, atol=1e-6)
    store.delete("kb_b", [records[0].chunk_id])
    store.upsert("kb_b", _records(1, prefix="new-"))
    assert store.count("kb_a") == 8 and records[0].chunk_id in store.hashes("kb_a")
    assert "new-0000#0" not in store.hashes("kb_a")


def test_live_pointer_list_and_drop(store: VectorStore) -> None:
    store.create_index("kb_a")
    store.create_index("kb_b")
    store.create_index("kb_c")
    assert store.list_indexes() == ["kb_a", "kb_b", "kb_c"]
    store.set_live("kb_a")
    assert store.live_index() == "kb_a"
    store.set_live("kb_b")
    assert store.live_index() == "kb_b"
    with pytest.raises(ValueError, match="live"):
        store.drop_index("kb_b")
    store.drop_index("kb_a")
    assert store.list_indexes() == ["kb_b", "kb_c"]
    assert store.live_index() == "kb_b"


def test_set_live_is_atomic_for_readers(store: VectorStore) -> None:
    """Readers polling the pointer while it flips always see one whole index name."""
    store.create_index("kb_a")
    store.create_index("kb_b")
    store.set_live("kb_a")
    seen: set[str | None] = set()
    errors: list[BaseException] = []
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            try:
                seen.add(store.live_index())
            except BaseException as error:  # any torn read fails the test
                errors.append(error)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for i in range(30):
            store.set_live("kb_b" if i % 2 == 0 else "kb_a")
    finally:
        done.set()
        reader.join()
    assert not errors
    assert seen <= {"kb_a", "kb_b"}
    assert store.live_index() == "kb_a"


def test_lancedb_pointer_file_leaves_no_temp_files(tmp_path) -> None:
    store = LanceDBStore(tmp_path / "v")
    store.create_index("kb_a")
    store.set_live("kb_a")
    assert sorted(p.name for p in (tmp_path / "v").iterdir() if p.is_file()) == [LanceDBStore.LIVE_FILE]
    # A second store on the same folder (another process) sees the same pointer.
    assert LanceDBStore(tmp_path / "v").live_index() == "kb_a"


def test_open_vector_store(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(open_vector_store(str(tmp_path / "a")), LanceDBStore)
    assert isinstance(open_vector_store(f"file://{tmp_path / 'b'}"), LanceDBStore)
    with pytest.raises(ValueError, match="unsupported vector store URI"):
        open_vector_store("s3://bucket/vectors")
    calls = []
    monkeypatch.setattr(stores, "_connect", lambda url, grpc_port: calls.append((url, grpc_port)) or object())
    assert isinstance(open_vector_store("weaviate://weaviate:8080"), WeaviateStore)
    assert isinstance(open_vector_store("weaviate://weaviate:8081?grpc_port=50052"), WeaviateStore)
    assert calls == [("http://weaviate:8080", 50051), ("http://weaviate:8081", 50052)]


def test_stores_close_as_context_managers(tmp_path, fake_weaviate_client) -> None:
    client = fake_weaviate_client
    with WeaviateStore("http://weaviate.invalid:8080", client=client) as weaviate_store:
        weaviate_store.create_index("kb_a")
    assert client.closed
    with LanceDBStore(tmp_path / "v") as lance_store:
        lance_store.create_index("kb_a")
    assert LanceDBStore(tmp_path / "v").list_indexes() == ["kb_a"]
