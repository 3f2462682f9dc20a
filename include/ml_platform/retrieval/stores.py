"""Vector stores for the help-centre index: embedded LanceDB (default) and a Weaviate server, same behaviour.

Both hold named indexes plus a "live" pointer so the nightly refresh can build the next index aside and switch
readers over in one step (blue/green). Scores are cosine similarities (higher is closer) in both backends.
Per-index calls on an index that does not exist raise KeyError; creating one that exists raises ValueError.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, Self, runtime_checkable
from urllib.parse import parse_qs, urlparse

import numpy as np

from ml_platform.embeddings import EMBEDDING_DIM

# Lower-case identifiers are valid LanceDB table names and, behind a prefix, valid Weaviate class names.
INDEX_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
METADATA_FIELDS = ("chunk_id", "article_id", "title", "text", "content_hash", "article_version")
MODEL_FIELDS = ("embedding_model", "embedding_version")
HIT_FIELDS = ("chunk_id", "article_id", "title", "text")


# eq=False: a record holds a numpy vector, and array equality is not a bool.
@dataclass(frozen=True, eq=False)
class VectorRecord:
    chunk_id: str
    article_id: str
    title: str
    text: str
    content_hash: str
    article_version: int
    vector: np.ndarray  # float32, L2-normalised
    embedding_model: str
    embedding_version: str

    def properties(self) -> dict[str, Any]:
        """Everything but the vector, as both backends store it."""
        return {name: getattr(self, name) for name in (*METADATA_FIELDS, *MODEL_FIELDS)}


@dataclass(frozen=True)
class Hit:
    chunk_id: str
    article_id: str
    title: str
    text: str
    score: float  # cosine similarity


@runtime_checkable
class VectorStore(Protocol):
    def create_index(self, name: str, copy_from: str | None = None) -> None: ...
    def drop_index(self, name: str) -> None: ...
    def list_indexes(self) -> list[str]: ...
    def live_index(self) -> str | None: ...
    def set_live(self, name: str) -> None: ...
    def upsert(self, name: str, records: Sequence[VectorRecord]) -> None: ...
    def delete(self, name: str, chunk_ids: Sequence[str]) -> None: ...
    def hashes(self, name: str) -> dict[str, str]: ...
    def count(self, name: str) -> int: ...
    def search(self, name: str, vector: np.ndarray, k: int) -> list[Hit]: ...
    def records(self, name: str) -> list[VectorRecord]: ...
    def close(self) -> None: ...


def check_index_name(name: str) -> str:
    if not INDEX_NAME.match(name):
        raise ValueError(f"invalid index name {name!r}: use lower-case letters, digits and _, starting with a letter")
    return name


def _unique_last(records: Sequence[VectorRecord]) -> list[VectorRecord]:
    """The last record per chunk id: a batch naming one id twice must not depend on backend merge order."""
    return list({r.chunk_id: r for r in records}.values())


def _ranked(hits: list[Hit], k: int) -> list[Hit]:
    # Tie-break on chunk id so both backends return the same order for equal scores.
    return sorted(hits, key=lambda h: (-h.score, h.chunk_id))[:k]


def _batches(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# -- LanceDB ---------------------------------------------------------------------------------------------
class LanceDBStore:
    """One LanceDB table per index in `folder`; the live pointer is `_live.json` beside the tables."""

    LIVE_FILE = "_live.json"

    def __init__(self, folder: str | Path, dim: int = EMBEDDING_DIM):
        import lancedb  # imported here so that merely importing this module stays cheap

        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.dim = dim
        self._db = lancedb.connect(str(self.folder))

    def _schema(self):
        import pyarrow as pa

        return pa.schema(
            [
                ("chunk_id", pa.string()),
                ("article_id", pa.string()),
                ("title", pa.string()),
                ("text", pa.string()),
                ("content_hash", pa.string()),
                ("article_version", pa.int64()),
                ("vector", pa.list_(pa.float32(), self.dim)),
                ("embedding_model", pa.string()),
                ("embedding_version", pa.string()),
            ]
        )

    def _tables(self) -> list[str]:
        names: list[str] = []
        token = None
        while True:
            page = self._db.list_tables(page_token=token)
            names += page.tables
            token = page.page_token
            if not token:
                return names

    def _table(self, name: str):
        if name not in self._tables():
            raise KeyError(f"no index {name!r} in {self.folder}")
        return self._db.open_table(name)

    def list_indexes(self) -> list[str]:
        return sorted(n for n in self._tables() if INDEX_NAME.match(n))

    def create_index(self, name: str, copy_from: str | None = None) -> None:
        check_index_name(name)
        if name in self._tables():
            raise ValueError(f"index {name!r} already exists in {self.folder}")
        if copy_from is None:
            self._db.create_table(name, schema=self._schema())
        else:
            self._db.create_table(name, data=self._table(copy_from).to_arrow(), schema=self._schema())

    def drop_index(self, name: str) -> None:
        self._table(name)
        if name == self.live_index():
            raise ValueError(f"index {name!r} is live: switch live to another index before dropping it")
        self._db.drop_table(name)

    def live_index(self) -> str | None:
        try:
            return json.loads((self.folder / self.LIVE_FILE).read_text())["index"]
        except FileNotFoundError:
            return None

    def set_live(self, name: str) -> None:
        self._table(name)
        pointer = {"index": name, "switched_at": datetime.now(UTC).isoformat()}
        # Temp file + os.replace: a reader opens the old pointer or the new one, never a half-written file.
        fd, tmp = tempfile.mkstemp(prefix=".tmp-live-", dir=self.folder)
        try:
            with os.fdopen(fd, "w") as handle:
                json.dump(pointer, handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.folder / self.LIVE_FILE)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def upsert(self, name: str, records: Sequence[VectorRecord]) -> None:
        table = self._table(name)
        if not records:
            return
        table.merge_insert("chunk_id").when_matched_update_all().when_not_matched_insert_all().execute(
            self._arrow(_unique_last(records))
        )

    def _arrow(self, records: Sequence[VectorRecord]):
        import pyarrow as pa

        vectors = np.stack([np.asarray(r.vector, dtype=np.float32) for r in records])
        if vectors.shape[1] != self.dim:
            raise ValueError(f"vectors have {vectors.shape[1]} dimensions, the store holds {self.dim}")
        columns: dict[str, Any] = {f: [getattr(r, f) for r in records] for f in (*METADATA_FIELDS, *MODEL_FIELDS)}
        columns["vector"] = pa.FixedSizeListArray.from_arrays(pa.array(vectors.ravel()), self.dim)
        return pa.table(columns).select(self._schema().names).cast(self._schema())

    def delete(self, name: str, chunk_ids: Sequence[str]) -> None:
        table = self._table(name)
        for batch in _batches(list(chunk_ids), 500):
            quoted = ", ".join("'" + cid.replace("'", "''") + "'" for cid in batch)
            table.delete(f"chunk_id IN ({quoted})")

    def hashes(self, name: str) -> dict[str, str]:
        rows = self._table(name).search().select(["chunk_id", "content_hash"]).limit(None).to_arrow()
        return dict(zip(rows["chunk_id"].to_pylist(), rows["content_hash"].to_pylist(), strict=True))

    def count(self, name: str) -> int:
        return self._table(name).count_rows()

    def search(self, name: str, vector: np.ndarray, k: int) -> list[Hit]:
        query = np.asarray(vector, dtype=np.float32)
        rows = (
            self._table(name)
            .search(query, vector_column_name="vector")
            .distance_type("cosine")
            .select([*HIT_FIELDS, "_distance"])
            .limit(k)
            .to_list()
        )
        # LanceDB's cosine distance is 1 - cosine similarity.
        return _ranked([Hit(*(row[f] for f in HIT_FIELDS), score=1.0 - float(row["_distance"])) for row in rows], k)

    def records(self, name: str) -> list[VectorRecord]:
        rows = self._table(name).to_arrow().to_pylist()
        return [VectorRecord(**{**row, "vector": np.asarray(row["vector"], dtype=np.float32)}) for row in rows]

    def close(self) -> None:
        """Nothing to release: LanceDB opens files per call."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# -- Weaviate --------------------------------------------------------------------------------------------
class WeaviateStore:
    """One Weaviate collection per index, `<namespace>_<index>`; the live pointer is the alias `<namespace>Live`.

    Vectors are self-provided (no server-side vectorizer) under one named vector, in an HNSW index with cosine
    distance. Object UUIDs are uuid5(chunk_id), so an upsert of a chunk replaces its object. The alias needs a
    Weaviate server >= 1.32; switching it is one server-side update, which readers see whole.
    """

    VECTOR = "default"
    PAGE = 200

    def __init__(self, url: str, grpc_port: int = 50051, *, namespace: str = "Rag", client: Any = None):
        if not re.match(r"^[A-Z][A-Za-z0-9]*$", namespace):
            raise ValueError(f"namespace {namespace!r} must be a capitalised alphanumeric Weaviate class prefix")
        self.url = url
        self._prefix = f"{namespace}_"
        self._alias = f"{namespace}Live"  # no "_" after the namespace, so it can never clash with an index
        self._client = client if client is not None else _connect(url, grpc_port)

    def _name(self, index: str) -> str:
        return self._prefix + check_index_name(index)

    def _collection(self, index: str):
        name = self._name(index)
        if not self._client.collections.exists(name):
            raise KeyError(f"no index {index!r} (collection {name}) in {self.url}")
        return self._client.collections.use(name)

    def list_indexes(self) -> list[str]:
        names = self._client.collections.list_all(simple=True)
        indexes = (n[len(self._prefix) :] for n in names if n.startswith(self._prefix))
        return sorted(i for i in indexes if INDEX_NAME.match(i))

    def create_index(self, name: str, copy_from: str | None = None) -> None:
        from weaviate.classes.config import Configure, DataType, Property, Tokenization, VectorDistances

        source = self._collection(copy_from) if copy_from is not None else None
        if self._client.collections.exists(self._name(name)):
            raise ValueError(f"index {name!r} already exists in {self.url}")

        def text(field: str, exact: bool) -> Property:
            # FIELD tokenization: ids and hashes are matched whole, never split into words.
            return Property(name=field, data_type=DataType.TEXT, tokenization=Tokenization.FIELD if exact else None)

        self._client.collections.create(
            self._name(name),
            properties=[
                text("chunk_id", True),
                text("article_id", True),
                text("title", False),
                text("text", False),
                text("content_hash", True),
                Property(name="article_version", data_type=DataType.INT),
                text("embedding_model", True),
                text("embedding_version", True),
            ],
            vector_config=Configure.Vectors.self_provided(
                name=self.VECTOR,
                vector_index_config=Configure.VectorIndex.hnsw(distance_metric=VectorDistances.COSINE),
            ),
        )
        if source is not None:
            self._insert(self._collection(name), list(self._iter_records(source)))

    def drop_index(self, name: str) -> None:
        self._collection(name)
        if name == self.live_index():
            raise ValueError(f"index {name!r} is live: switch live to another index before dropping it")
        self._client.collections.delete(self._name(name))

    def live_index(self) -> str | None:
        alias = self._client.alias.get(alias_name=self._alias)
        if alias is None:
            return None
        return alias.collection[len(self._prefix) :] if alias.collection.startswith(self._prefix) else None

    def set_live(self, name: str) -> None:
        target = self._collection(name).name
        if self._client.alias.get(alias_name=self._alias) is None:
            self._client.alias.create(alias_name=self._alias, target_collection=target)
        else:
            self._client.alias.update(alias_name=self._alias, new_target_collection=target)

    def upsert(self, name: str, records: Sequence[VectorRecord]) -> None:
        self._insert(self._collection(name), _unique_last(records))

    def _insert(self, collection: Any, records: Sequence[VectorRecord]) -> None:
        from weaviate.classes.data import DataObject
        from weaviate.util import generate_uuid5

        for batch in _batches(records, self.PAGE):
            objects = [
                DataObject(
                    properties=r.properties(),
                    vector={self.VECTOR: np.asarray(r.vector, dtype=np.float32).tolist()},
                    uuid=generate_uuid5(r.chunk_id),
                )
                for r in batch
            ]
            # A batch write replaces objects whose UUID exists, which makes this an upsert.
            result = collection.data.insert_many(objects)
            if result.has_errors:
                first = next(iter(result.errors.values()))
                raise RuntimeError(
                    f"{len(result.errors)} objects failed to write to {collection.name}: {first.message}"
                )

    def delete(self, name: str, chunk_ids: Sequence[str]) -> None:
        from weaviate.classes.query import Filter
        from weaviate.util import generate_uuid5

        collection = self._collection(name)
        for batch in _batches(list(chunk_ids), self.PAGE):
            collection.data.delete_many(where=Filter.by_id().contains_any([generate_uuid5(c) for c in batch]))

    def hashes(self, name: str) -> dict[str, str]:
        objects = self._collection(name).iterator(return_properties=["chunk_id", "content_hash"])
        return {o.properties["chunk_id"]: o.properties["content_hash"] for o in objects}

    def count(self, name: str) -> int:
        return int(self._collection(name).aggregate.over_all(total_count=True).total_count or 0)

    def search(self, name: str, vector: np.ndarray, k: int) -> list[Hit]:
        from weaviate.classes.query import MetadataQuery

        result = self._collection(name).query.near_vector(
            near_vector=np.asarray(vector, dtype=np.float32).tolist(),
            limit=k,
            target_vector=self.VECTOR,
            return_properties=list(HIT_FIELDS),
            return_metadata=MetadataQuery(distance=True),
        )
        # Weaviate's cosine distance is 1 - cosine similarity, as in LanceDB.
        hits = [
            Hit(*(o.properties[f] for f in HIT_FIELDS), score=1.0 - float(o.metadata.distance)) for o in result.objects
        ]
        return _ranked(hits, k)

    def records(self, name: str) -> list[VectorRecord]:
        return list(self._iter_records(self._collection(name)))

    def _iter_records(self, collection: Any) -> Iterator[VectorRecord]:
        for o in collection.iterator(include_vector=True, return_properties=[*METADATA_FIELDS, *MODEL_FIELDS]):
            props = dict(o.properties)
            props["article_version"] = int(props["article_version"])
            yield VectorRecord(**props, vector=np.asarray(o.vector[self.VECTOR], dtype=np.float32))

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _connect(url: str, grpc_port: int):
    """A v4 client for http(s)://host:port or weaviate://host:port; gRPC on the same host."""
    import weaviate

    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https", "weaviate") or not parsed.hostname:
        raise ValueError(f"unsupported Weaviate URL {url!r}: use http://host:8080 or weaviate://host:8080")
    secure = parsed.scheme == "https"
    # A secured server (docker-compose's Weaviate) takes an API key; it comes from the environment, never a URI.
    api_key = os.environ.get("WEAVIATE_API_KEY")
    return weaviate.connect_to_custom(
        http_host=parsed.hostname,
        http_port=parsed.port or (443 if secure else 8080),
        http_secure=secure,
        grpc_host=parsed.hostname,
        grpc_port=grpc_port,
        grpc_secure=secure,
        auth_credentials=weaviate.auth.AuthApiKey(api_key) if api_key else None,
    )


# -- factory ---------------------------------------------------------------------------------------------
def open_vector_store(uri: str) -> VectorStore:
    """A local path (or file://) opens LanceDB there; `weaviate://host:port[?grpc_port=N]` connects to Weaviate."""
    if uri.startswith("weaviate://"):
        parsed = urlparse(uri)
        grpc_port = int(parse_qs(parsed.query).get("grpc_port", ["50051"])[0])
        return WeaviateStore(f"http://{parsed.netloc}", grpc_port=grpc_port)
    if "://" in uri and not uri.startswith("file://"):
        raise ValueError(f"unsupported vector store URI {uri!r}: use a local folder or weaviate://host:port")
    return LanceDBStore(uri.removeprefix("file://"))
