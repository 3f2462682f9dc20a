"""The date-partitioned Parquet lake: `<dataset>/dt=YYYY-MM-DD/part-00000.parquet` on disk or S3.

A partition is one Parquet object that carries its own metadata (source, generator facts, content hash) in
the file's key-value metadata, so data and description are replaced together in one atomic write.
Rejected partitions move to `_quarantine/<dataset>/dt=D/<stamp>/` beside a `reason.json`, and a replaced
partition's earlier bytes move to `_versions/<dataset>/dt=D/<stamp>-<hash>/`: nothing in the lake is ever
deleted outright. Validation verdicts are kept beside the data, keyed by content hash, under `_verdicts/`.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ml_platform import names
from ml_platform.dates import as_date
from ml_platform.errors import BadInput, PartitionMissing
from ml_platform.storage import ObjectStore, open_store

PART_FILE = "part-00000.parquet"
QUARANTINE = "_quarantine"
VERDICTS = "_verdicts"
VERSIONS = "_versions"
_META_KEY = b"ml_platform"
_MAGIC = b"PAR1"  # a Parquet file ends with its footer, the footer's 4-byte length, and this
_DT = re.compile(r"^(?P<dataset>[^/]+)/dt=(?P<dt>\d{4}-\d{2}-\d{2})/" + re.escape(PART_FILE) + "$")


@dataclass(frozen=True)
class PartitionInfo:
    dataset: str
    dt: date
    rows: int
    content_hash: str
    uri: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "dt": self.dt.isoformat(),
            "rows": self.rows,
            "content_hash": self.content_hash,
            "uri": self.uri,
        }


def content_hash(df: pd.DataFrame) -> str:
    """A hash of the values and column names, independent of Parquet encoding details."""
    digest = hashlib.sha256(",".join(map(str, df.columns)).encode())
    digest.update(pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes())
    return digest.hexdigest()[:16]


def _content_hash_of(data: bytes) -> str | None:
    """The content hash a partition object carries in its own metadata."""
    return _own_metadata(pq.read_schema(io.BytesIO(data))).get("content_hash")


def _footer_schema(store: ObjectStore, key: str) -> pa.Schema:
    """A Parquet object's schema and key-value metadata from its footer alone: the last 8 bytes (footer length
    and magic), then the footer itself, by two ranged reads instead of the whole object (a full GET on S3)."""
    for _ in range(3):  # a concurrent replace between the two reads changes the tail: read it again
        end = store.get_tail(key, 8)
        if len(end) < 8 or end[4:] != _MAGIC:
            raise BadInput(f"{store.url(key)} is not a Parquet file (no {_MAGIC!r} at its end)")
        tail = store.get_tail(key, int.from_bytes(end[:4], "little") + 8)
        if tail.endswith(end):
            # pyarrow finds the footer from the end; the leading magic only makes the buffer a Parquet file.
            return pq.read_schema(io.BytesIO(_MAGIC + tail))
    raise BadInput(f"{store.url(key)} kept changing while its footer was read")


def _parquet(frame: pd.DataFrame, record: dict[str, Any]) -> bytes:
    """A partition object: the rows, with the lake's facts about them in the file's own metadata."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    schema_meta = dict(table.schema.metadata or {})
    schema_meta[_META_KEY] = json.dumps(record, default=str).encode()
    buffer = io.BytesIO()
    pq.write_table(table.replace_schema_metadata(schema_meta), buffer, compression="zstd")
    return buffer.getvalue()


def _own_metadata(schema: pa.Schema) -> dict[str, Any]:
    """The facts a partition object carries about itself (rows, content hash, source, ...)."""
    return json.loads((schema.metadata or {}).get(_META_KEY, b"{}"))


def _origin(facts: dict[str, Any]) -> str:
    return f" ({facts['file']})" if facts.get("file") else ""


# One partition to write: (dataset, dt, rows, caller metadata), as `Lake.write` takes them.
Part = tuple[str, date | str, pd.DataFrame, dict[str, Any] | None]
_REPLACE_HINT = (
    "Pass replace_other_source (ingest form, or --replace-other-source) to replace it; the current rows are then "
    f"kept under {VERSIONS}/"
)


def partition_key(dataset: str, dt: date | str) -> str:
    return f"{dataset}/dt={as_date(dt).isoformat()}/{PART_FILE}"


class Lake:
    def __init__(self, store: ObjectStore):
        self.store = store

    @classmethod
    def at(cls, uri: str) -> Lake:
        return cls(open_store(uri))

    # -- writing ---------------------------------------------------------------------------------------
    def write(
        self,
        dataset: str,
        dt: date | str,
        df: pd.DataFrame,
        meta: dict[str, Any] | None = None,
        *,
        replace_other_source: bool = False,
    ) -> PartitionInfo:
        """Replace exactly one date's partition (idempotent: same rows, same hash, nothing written).

        The rows it replaces are kept under `_versions/`, and so are its own when a concurrent writer's put
        replaced them at once. A partition that came from another source (a user's import or landed file,
        under demo data) is only replaced when `replace_other_source` says so.
        """
        dt = as_date(dt)
        # The index is neither hashed nor stored: no reset_index copy (it was a fifth of a write's time).
        digest = content_hash(df)
        key = partition_key(dataset, dt)
        info = PartitionInfo(dataset, dt, len(df), digest, self.store.url(key))
        facts = self._live_facts(key)
        if facts.get("content_hash") == digest:
            return info
        refusal = self._refusal(dataset, dt, facts, (meta or {}).get("source"), digest) if facts else None
        if refusal and not replace_other_source:
            raise BadInput(f"{refusal}. {_REPLACE_HINT}")
        # Caller metadata first: the lake's own facts about the partition must win any name clash.
        record = {**(meta or {}), "dataset": dataset, "dt": dt.isoformat(), "rows": len(df), "content_hash": digest}
        data = _parquet(df, record)
        # Neither store offers a conditional put (compare-and-swap), so concurrent writers of one day can only
        # narrow the race: keep what is live up to the put, and keep our own rows when a later put replaced them.
        # Still lost: rows another writer put after our last read of the live partition and checked before
        # our put landed on them (a window of one footer read and one put).
        self._keep_replaced(dataset, dt, digest)
        self.store.put(key, data)
        if self._stored_hash(key) != digest:  # another writer's put landed after ours: nobody kept our rows
            self._keep_version(dataset, dt, data, record)
        return info

    def _live_facts(self, key: str) -> dict[str, Any]:
        """The live partition's own facts, from its footer; empty when there is none."""
        try:
            return _own_metadata(_footer_schema(self.store, key))
        except KeyError:
            return {}

    def _keep_replaced(self, dataset: str, dt: date, digest: str) -> None:
        """Keep the live rows our put is about to replace. Read the live hash again after each keep: another
        writer may have put other rows meanwhile, and those would be replaced unkept."""
        key, kept = partition_key(dataset, dt), set()
        for _ in range(10):  # bounded: each pass means another writer landed rows in the last moments
            live = self._stored_hash(key)
            if live is None or live == digest or live in kept:
                return
            try:
                data = self.store.get(key)
            except KeyError:
                return  # moved away meanwhile (a quarantine keeps its own copy)
            facts = _own_metadata(pq.read_schema(io.BytesIO(data)))
            self._keep_version(dataset, dt, data, facts)
            kept.add(facts.get("content_hash"))

    def write_many(self, parts: list[Part], *, replace_other_source: bool = False) -> list[PartitionInfo]:
        """Write several partitions (an ingest's tables, an import's days), refusing all of them before any is
        written: a refusal midway would leave the earlier ones replaced and the later ones not. A partition
        landed from another source between this check and its write is still refused by `write`."""
        if not replace_other_source:
            self.check_sources(
                [(dataset, dt, (meta or {}).get("source"), content_hash(df)) for dataset, dt, df, meta in parts]
            )
        return [self.write(*part, replace_other_source=replace_other_source) for part in parts]

    def check_sources(self, targets: list[tuple[str, date | str, str | None, str | None]]) -> None:
        """Raise, naming each one, when any (dataset, dt, source, content hash) target would replace a partition
        that came from another source; an absent partition or one with those very rows is no refusal."""
        refused = []
        for dataset, dt, source, digest in targets:
            facts = self._live_facts(partition_key(dataset, dt))
            if facts and (why := self._refusal(dataset, as_date(dt), facts, source, digest)):
                refused.append(why)
        if refused:
            raise BadInput(f"{'; '.join(refused)}. Nothing was written. {_REPLACE_HINT}")

    def _refusal(
        self, dataset: str, dt: date, facts: dict[str, Any], source: str | None, digest: str | None
    ) -> str | None:
        """Why writing `source` rows (hash `digest`) over a partition with these facts is refused, or None."""
        if facts.get("source") == source or (digest is not None and facts.get("content_hash") == digest):
            return None  # same source, or the very same rows (an idempotent rewrite)
        return (
            f"{dataset}/dt={dt} in {self.store.uri} came from {facts.get('source')!r}{_origin(facts)}; "
            f"refusing to replace it with {source!r} data"
        )

    def _keep_version(self, dataset: str, dt: date, data: bytes, facts: dict[str, Any]) -> None:
        folder = f"{VERSIONS}/{dataset}/dt={dt.isoformat()}/"
        digest = facts.get("content_hash")
        if any(f"-{digest}/" in key for key in self.store.list(folder)):
            return  # kept already, by an attempt that died before its replacement landed
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        self.store.put(f"{folder}{stamp}-{digest}/{PART_FILE}", data)

    def versions(self, dataset: str, dt: date | str) -> list[dict[str, Any]]:
        """Earlier rows of a partition, oldest first, each with its own facts and where it is kept."""
        found = []
        for key in self.store.list(f"{VERSIONS}/{dataset}/dt={as_date(dt).isoformat()}/"):
            found.append(_own_metadata(_footer_schema(self.store, key)) | {"kept_at": self.store.url(key)})
        return found

    # -- reading ---------------------------------------------------------------------------------------
    def exists(self, dataset: str, dt: date | str) -> bool:
        return self.store.exists(partition_key(dataset, dt))

    def landed(self, dataset: str, dt: date | str, waited: timedelta, patience: timedelta) -> bool:
        """Whether a partition a run waits for is there; once `patience` has passed it is a failure that
        names the partition (retrying the wait will not make an upstream run happen)."""
        if self.exists(dataset, dt):
            return True
        rejected = self.quarantined(dataset, dt)
        if rejected:
            # Another pipeline judged this day's rows bad already: waiting six hours would not change them.
            latest = rejected[-1]
            raise PartitionMissing(
                f"{dataset}/dt={as_date(dt)} was quarantined ({latest.get('reason')}: "
                f"{'; '.join(latest.get('failed', [])) or 'see reason.json'}) to {self.store.url(latest['folder'])}/ "
                f"by {latest.get('pipeline', 'a pipeline')}. Land a fixed file, run {names.INGEST} for "
                f"{as_date(dt)}, then clear this task.",
                retryable=False,
            )
        if waited > patience:
            raise PartitionMissing(
                f"{dataset}/dt={as_date(dt)} has not landed in {self.store.uri} after {waited}: did {names.INGEST} "
                f"run for {as_date(dt)}? Check its run, or land the partition and clear this task.",
                retryable=False,
            )
        return False

    def _bytes(self, dataset: str, dt: date | str) -> bytes:
        try:
            return self.store.get(partition_key(dataset, dt))
        except KeyError:
            raise PartitionMissing(f"partition {dataset}/dt={as_date(dt)} has not landed in {self.store.uri}") from None

    def _table(self, dataset: str, dt: date | str) -> pa.Table:
        return pq.read_table(io.BytesIO(self._bytes(dataset, dt)))

    def _info(self, dataset: str, dt: date | str, schema: pa.Schema) -> PartitionInfo:
        meta = _own_metadata(schema)
        key = partition_key(dataset, dt)
        return PartitionInfo(dataset, as_date(dt), int(meta["rows"]), meta["content_hash"], self.store.url(key))

    def read(self, dataset: str, dt: date | str) -> pd.DataFrame:
        return self._table(dataset, dt).to_pandas()

    def load(self, dataset: str, dt: date | str) -> tuple[pd.DataFrame, PartitionInfo]:
        """The partition and its facts from one read, so the facts (its content hash) describe these rows."""
        table = self._table(dataset, dt)
        return table.to_pandas(), self._info(dataset, dt, table.schema)

    def read_hash(self, dataset: str, dt: date | str, digest: str) -> pd.DataFrame:
        """The rows a partition held when its content hash was `digest`: live, kept under `_versions/`, or
        quarantined. A run's record names its data by hash, so a rebuild must read exactly those rows."""
        for key in self._places_of(dataset, dt, digest):
            try:
                data = self.store.get(key)
            except KeyError:
                continue  # moved meanwhile (a quarantine of the live partition): look further
            if _content_hash_of(data) == digest:  # the bytes themselves, not the listing, decide
                return pq.read_table(io.BytesIO(data)).to_pandas()
        raise PartitionMissing(
            f"{dataset}/dt={as_date(dt)} with content hash {digest} is not in {self.store.uri}: "
            f"neither the live partition nor {VERSIONS}/ or {QUARANTINE}/ holds those rows"
        )

    def _places_of(self, dataset: str, dt: date | str, digest: str) -> Iterator[str]:
        """Keys that may hold the rows with `digest`, cheapest check first."""
        live = partition_key(dataset, dt)
        if self._stored_hash(live) == digest:
            yield live
        folder = f"{VERSIONS}/{dataset}/dt={as_date(dt).isoformat()}/"
        yield from (key for key in self.store.list(folder) if f"-{digest}/" in key)  # kept as <stamp>-<hash>/
        for record in reversed(self.quarantined(dataset, dt)):
            if record.get("content_hash") in (digest, None):  # older records may lack the hash: check the bytes
                yield f"{record['folder']}/{PART_FILE}"

    def _schema(self, dataset: str, dt: date | str) -> pa.Schema:
        """The partition's schema and own metadata, from the Parquet footer alone (no rows fetched)."""
        try:
            return _footer_schema(self.store, partition_key(dataset, dt))
        except KeyError:
            raise PartitionMissing(f"partition {dataset}/dt={as_date(dt)} has not landed in {self.store.uri}") from None

    def metadata(self, dataset: str, dt: date | str) -> dict[str, Any]:
        return _own_metadata(self._schema(dataset, dt))

    def info(self, dataset: str, dt: date | str) -> PartitionInfo:
        return self._info(dataset, dt, self._schema(dataset, dt))

    def dates(self, dataset: str, start: date | str | None = None, end: date | str | None = None) -> list[date]:
        """Landed partition dates of a dataset, inclusive of both ends when given."""
        found = []
        for key in self.store.list(f"{dataset}/dt="):
            match = _DT.match(key)
            if match and match["dataset"] == dataset:
                found.append(date.fromisoformat(match["dt"]))
        lo = as_date(start) if start else date.min
        hi = as_date(end) if end else date.max
        return sorted(d for d in found if lo <= d <= hi)

    def read_window(
        self, dataset: str, start: date | str, end: date | str, *, require_all: bool = False
    ) -> pd.DataFrame:
        """All partitions in [start, end] stacked, with a `dt` column; optionally insist on no gaps."""
        start, end = as_date(start), as_date(end)
        landed = self.dates(dataset, start, end)
        if require_all:
            wanted = pd.date_range(start, end, freq="D").date
            missing = sorted(set(wanted) - set(landed))
            if missing:
                raise PartitionMissing(f"{dataset}: missing partitions {[d.isoformat() for d in missing]}")
        if not landed:
            raise PartitionMissing(f"{dataset}: no partitions between {start} and {end} in {self.store.uri}")
        frames = [self.read(dataset, d).assign(dt=d) for d in landed]
        return pd.concat(frames, ignore_index=True)

    # -- validation verdicts ------------------------------------------------------------------------------
    @staticmethod
    def _verdict_key(dataset: str, dt: date | str, content_hash: str, suite: str) -> str:
        return f"{VERDICTS}/{dataset}/dt={as_date(dt).isoformat()}/{content_hash}-{suite}.json"

    def remember_verdict(self, info: PartitionInfo, suite: str, verdict: dict[str, Any]) -> None:
        """Keep a validation verdict for exactly these rows under exactly this suite."""
        key = self._verdict_key(info.dataset, info.dt, info.content_hash, suite)
        self.store.put(key, json.dumps(verdict, indent=2, default=str).encode())

    def verdict(self, info: PartitionInfo, suite: str) -> dict[str, Any] | None:
        """The verdict kept for these rows and this suite, or None when they were never validated."""
        try:
            return json.loads(self.store.get(self._verdict_key(info.dataset, info.dt, info.content_hash, suite)))
        except KeyError:
            return None

    def verdicts(self, info: PartitionInfo) -> dict[str, dict[str, Any]]:
        """Every verdict kept for these rows, by suite version (earlier suites included)."""
        prefix = f"{VERDICTS}/{info.dataset}/dt={as_date(info.dt).isoformat()}/{info.content_hash}-"
        return {
            key.removeprefix(prefix).removesuffix(".json"): json.loads(self.store.get(key))
            for key in self.store.list(prefix)
            if key.startswith(prefix) and key.endswith(".json")
        }

    # -- quarantine ------------------------------------------------------------------------------------
    def quarantine(self, dataset: str, dt: date | str, reason: dict[str, Any], expected_hash: str | None = None) -> str:
        """Move a partition aside with the reason it was rejected; returns the quarantine folder key.

        `expected_hash` is the content hash of the rows that were judged: only those are moved. A partition
        re-landed in the meantime (another hash) is left in place, and the record says so. Rows already moved
        by a concurrent task (two monitors of one dataset, monitoring and training) count as done: the
        folder of that earlier quarantine is returned.
        """
        dt = as_date(dt)
        source = partition_key(dataset, dt)
        try:
            data = self.store.get(source)
        except KeyError:
            return self._quarantined_already(dataset, dt, expected_hash)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        folder = f"{QUARANTINE}/{dataset}/dt={dt.isoformat()}/{stamp}"
        record = {"dataset": dataset, "dt": dt.isoformat(), "quarantined_at": stamp, **reason}
        # Copy and record first, delete last: a crash in between leaves a duplicate, never a loss.
        found = _content_hash_of(data)
        record["content_hash"] = found
        if expected_hash is not None and found != expected_hash:
            record["left_in_place"] = f"the partition was re-landed (hash {found}, judged {expected_hash})"
        self.store.put(f"{folder}/{PART_FILE}", data)
        self.store.put(f"{folder}/reason.json", json.dumps(record, indent=2, default=str).encode())
        if "left_in_place" not in record and self._stored_hash(source) == found:
            self.store.delete(source)
        return folder

    def _stored_hash(self, key: str) -> str | None:
        """The content hash of the partition object at `key` now; None once a concurrent task moved it."""
        return self._live_facts(key).get("content_hash")

    def _quarantined_already(self, dataset: str, dt: date, expected_hash: str | None) -> str:
        """The folder of an earlier quarantine that moved exactly the judged rows; without one, the partition
        is simply missing."""
        for record in reversed(self.quarantined(dataset, dt)):
            if expected_hash and record.get("content_hash") == expected_hash and "left_in_place" not in record:
                return record["folder"]
        raise PartitionMissing(f"cannot quarantine {dataset}/dt={dt}: it is not in the lake")

    def quarantined(self, dataset: str, dt: date | str | None = None) -> list[dict[str, Any]]:
        """The quarantine records of a dataset (of one date, when given), oldest first."""
        day = f"dt={as_date(dt).isoformat()}/" if dt is not None else ""
        keys = self.store.list(f"{QUARANTINE}/{dataset}/{day}")
        return [
            json.loads(self.store.get(k)) | {"folder": k.rsplit("/", 1)[0]} for k in keys if k.endswith("/reason.json")
        ]
