"""Fixtures of the retrieval tests: store backends, the shared embedder, and an offline Weaviate client stand-in.

No Weaviate server can run on this machine. The real-server backend runs only when WEAVIATE_URL is set; the
stand-in below lets the same contract suite drive WeaviateStore's code paths anyway. It accepts only the real
v4 client's argument objects (Configure/Property/DataObject/Filter/MetadataQuery) and validates the collection
config the way `collections.create` does, so a wrong call shape fails here, but it proves nothing about the
server's behaviour.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from weaviate.aliases.alias import AliasReturn
from weaviate.classes.data import DataObject
from weaviate.classes.query import MetadataQuery
from weaviate.collections.classes.batch import BatchObjectReturn
from weaviate.collections.classes.config import _CollectionConfigCreate
from weaviate.collections.classes.filters import _FilterValue, _Operator

from ml_platform.embeddings import Embedder, get_embedder
from ml_platform.retrieval.stores import LanceDBStore, VectorStore, WeaviateStore

NO_WEAVIATE = (
    "no Weaviate server configured: set WEAVIATE_URL=http://host:8080 to run the contract suite against it "
    "(none can run on this machine)"
)


# -- offline stand-in for the weaviate-client v4 surface WeaviateStore uses ---------------------------------
class _FakeData:
    def __init__(self, collection: _FakeCollection):
        self._c = collection

    def insert_many(self, objects: list[DataObject]) -> BatchObjectReturn:
        for obj in objects:
            assert isinstance(obj, DataObject), "insert_many takes weaviate DataObject instances"
            uuid.UUID(str(obj.uuid))
            assert set(obj.vector) == {self._c.vector_name}, "vector must be keyed by the collection's named vector"
            assert set(obj.properties) <= self._c.properties, f"unknown properties {set(obj.properties)}"
            # Batch writes replace an object with the same UUID: that is what makes upsert work on a server.
            self._c.objects[str(obj.uuid)] = (dict(obj.properties), np.asarray(obj.vector[self._c.vector_name]))
        return BatchObjectReturn()

    def delete_many(self, where: _FilterValue) -> SimpleNamespace:
        assert isinstance(where, _FilterValue) and where.target == "_id" and where.operator == _Operator.CONTAINS_ANY
        removed = [u for u in map(str, where.value) if self._c.objects.pop(u, None) is not None]
        return SimpleNamespace(matches=len(removed), successful=len(removed), failed=0)


class _FakeCollection:
    def __init__(self, name: str, properties: set[str], vector_name: str):
        self.name = name
        self.properties = properties
        self.vector_name = vector_name
        self.objects: dict[str, tuple[dict[str, Any], np.ndarray]] = {}
        self.data = _FakeData(self)
        self.aggregate = SimpleNamespace(over_all=self._over_all)
        self.query = SimpleNamespace(near_vector=self._near_vector)

    def _over_all(self, *, total_count: bool = True) -> SimpleNamespace:
        return SimpleNamespace(total_count=len(self.objects) if total_count else None)

    def iterator(self, include_vector: bool = False, *, return_properties: list[str] | None = None):
        for props, vector in list(self.objects.values()):
            keep = props if return_properties is None else {p: props[p] for p in return_properties}
            yield SimpleNamespace(properties=keep, vector={self.vector_name: vector.tolist()} if include_vector else {})

    def _near_vector(
        self,
        near_vector: list[float],
        *,
        limit: int,
        target_vector: str,
        return_properties: list[str],
        return_metadata: MetadataQuery,
    ) -> SimpleNamespace:
        assert target_vector == self.vector_name and return_metadata.distance
        query = np.asarray(near_vector)
        scored = []
        for props, vector in self.objects.values():
            cosine = float(query @ vector / (np.linalg.norm(query) * np.linalg.norm(vector)))
            scored.append((1.0 - cosine, {p: props[p] for p in return_properties}))
        scored.sort(key=lambda pair: pair[0])
        objects = [SimpleNamespace(properties=p, metadata=SimpleNamespace(distance=d)) for d, p in scored[:limit]]
        return SimpleNamespace(objects=objects)


class _FakeCollections:
    def __init__(self) -> None:
        self.store: dict[str, _FakeCollection] = {}

    def create(self, name: str, **kwargs: Any) -> _FakeCollection:
        # The same validation the real client runs before it sends the schema.
        schema = _CollectionConfigCreate(name=name, **kwargs)._to_dict()
        assert name not in self.store, f"collection {name} exists"
        (vector_name, vector_config), *_ = schema["vectorConfig"].items()
        assert vector_config["vectorizer"] == {"none": {}}, "vectors must be self-provided"
        assert vector_config["vectorIndexConfig"]["distance"] == "cosine"
        properties = {p["name"] for p in schema["properties"]}
        self.store[name] = _FakeCollection(name, properties, vector_name)
        return self.store[name]

    def exists(self, name: str) -> bool:
        return name in self.store

    def use(self, name: str) -> _FakeCollection:
        return self.store[name]

    def delete(self, name: str) -> None:
        self.store.pop(name, None)

    def list_all(self, simple: bool = True) -> dict[str, Any]:
        return dict.fromkeys(self.store)


class _FakeAlias:
    def __init__(self, collections: _FakeCollections):
        self._collections = collections
        self.targets: dict[str, str] = {}

    def get(self, *, alias_name: str) -> AliasReturn | None:
        target = self.targets.get(alias_name)
        return None if target is None else AliasReturn(alias=alias_name, collection=target)

    def create(self, *, alias_name: str, target_collection: str) -> None:
        assert alias_name not in self.targets and target_collection in self._collections.store
        self.targets[alias_name] = target_collection

    def update(self, *, alias_name: str, new_target_collection: str) -> bool:
        assert alias_name in self.targets and new_target_collection in self._collections.store
        self.targets[alias_name] = new_target_collection
        return True


class FakeWeaviateClient:
    def __init__(self) -> None:
        self.collections = _FakeCollections()
        self.alias = _FakeAlias(self.collections)
        self.closed = False

    def close(self) -> None:
        self.closed = True


# -- fixtures ------------------------------------------------------------------------------------------------
def _weaviate_server_store() -> WeaviateStore:
    url = os.environ.get("WEAVIATE_URL")
    if not url:
        pytest.skip(NO_WEAVIATE)
    grpc_port = int(os.environ.get("WEAVIATE_GRPC_PORT", "50051"))
    # A namespace per test keeps runs apart on a shared server.
    return WeaviateStore(url, grpc_port, namespace=f"T{uuid.uuid4().hex[:12]}")


def _cleanup_weaviate(store: WeaviateStore) -> None:
    client = store._client
    if client.alias.get(alias_name=store._alias) is not None:
        client.alias.delete(alias_name=store._alias)
    for name in store.list_indexes():
        client.collections.delete(store._name(name))
    store.close()


def _make_store(kind: str, tmp_path: Path) -> VectorStore:
    if kind == "lancedb":
        return LanceDBStore(tmp_path / "vectors")
    if kind == "weaviate_offline":
        return WeaviateStore("http://weaviate.invalid:8080", client=FakeWeaviateClient())
    return _weaviate_server_store()


@pytest.fixture(params=["lancedb", "weaviate", "weaviate_offline"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[VectorStore]:
    """Every backend the contract suite holds to the same behaviour."""
    backend = _make_store(request.param, tmp_path)
    yield backend
    if request.param == "weaviate":
        _cleanup_weaviate(backend)  # type: ignore[arg-type]
    else:
        backend.close()


@pytest.fixture(params=["lancedb", "weaviate", "weaviate_offline"])
def refresh_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[VectorStore]:
    """Backends for the refresh tests (real embeddings, real data)."""
    backend = _make_store(request.param, tmp_path)
    yield backend
    if request.param == "weaviate":
        _cleanup_weaviate(backend)  # type: ignore[arg-type]
    else:
        backend.close()


@pytest.fixture
def fake_weaviate_client() -> FakeWeaviateClient:
    return FakeWeaviateClient()


class MemoEmbedder:
    """The real model, with each distinct text embedded once per session: the refresh tests embed the same
    KB and eval questions many times, and the model is deterministic, so repeats only cost test time."""

    def __init__(self, inner: Embedder):
        self.inner = inner
        self.model_name = inner.model_name
        self.model_version = inner.model_version
        self.dim = inner.dim
        self._memo: dict[str, np.ndarray] = {}

    def embed(self, texts: list[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self._memo))
        self._memo.update(zip(missing, self.inner.embed(missing), strict=True))
        return np.stack([self._memo[t] for t in texts]) if texts else self.inner.embed([])


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return MemoEmbedder(get_embedder())  # type: ignore[return-value]
