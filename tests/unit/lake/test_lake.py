"""The lake contract, run against local disk and the S3 protocol (moto server over HTTP)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from ml_platform.errors import BadInput
from ml_platform.lake import Lake, PartitionMissing, content_hash, partition_key
from ml_platform.storage import LocalStore, open_store


def frame(n: int, offset: int = 0) -> pd.DataFrame:
    return pd.DataFrame({"id": [f"r{i + offset}" for i in range(n)], "value": [float(i) for i in range(n)]})


@pytest.fixture
def lake(store_uri: str) -> Lake:
    return Lake.at(store_uri)


def test_write_then_read_round_trips_rows_and_metadata(lake: Lake) -> None:
    info = lake.write("churn", date(2026, 11, 1), frame(5), {"source": "demo", "oracle_roc_auc": 0.8})
    assert info.rows == 5
    pd.testing.assert_frame_equal(lake.read("churn", "2026-11-01"), frame(5))
    meta = lake.metadata("churn", date(2026, 11, 1))
    assert meta["source"] == "demo" and meta["oracle_roc_auc"] == 0.8
    assert meta["content_hash"] == info.content_hash == content_hash(frame(5))


def test_rewriting_a_date_replaces_exactly_that_date(lake: Lake) -> None:
    lake.write("churn", "2026-11-01", frame(5))
    lake.write("churn", "2026-11-02", frame(3))
    lake.write("churn", "2026-11-01", frame(2, offset=100))
    assert lake.read("churn", "2026-11-01")["id"].tolist() == ["r100", "r101"]
    assert len(lake.read("churn", "2026-11-02")) == 3
    assert lake.dates("churn") == [date(2026, 11, 1), date(2026, 11, 2)]


def test_same_input_gives_same_hash_and_idempotent_rewrite(lake: Lake) -> None:
    first = lake.write("fraud", "2026-11-01", frame(10))
    second = lake.write("fraud", "2026-11-01", frame(10))
    assert first.content_hash == second.content_hash
    assert lake.dates("fraud") == [date(2026, 11, 1)]


def test_a_frame_with_another_index_is_the_same_partition(lake: Lake) -> None:
    """The index is neither hashed nor stored: a filtered or shuffled-index frame lands as its plain rows."""
    plain = frame(6)
    indexed = plain.set_axis([10, 3, 7, 1, 99, 5])
    first = lake.write("fraud", "2026-11-01", indexed)
    assert first.content_hash == content_hash(plain) and lake.write("fraud", "2026-11-01", plain) == first
    pd.testing.assert_frame_equal(lake.read("fraud", "2026-11-01"), plain)


def test_dates_filter_by_range_and_dataset(lake: Lake) -> None:
    for day in range(1, 6):
        lake.write("churn", date(2026, 11, day), frame(1))
    lake.write("churn_extra", date(2026, 11, 9), frame(1))
    assert lake.dates("churn", "2026-11-02", "2026-11-04") == [date(2026, 11, d) for d in (2, 3, 4)]
    assert lake.dates("churn", start="2026-11-04") == [date(2026, 11, 4), date(2026, 11, 5)]
    assert lake.dates("nothing") == []


def test_read_window_stacks_partitions_with_dt_and_can_insist_on_no_gaps(lake: Lake) -> None:
    lake.write("churn", "2026-11-01", frame(2))
    lake.write("churn", "2026-11-03", frame(3))
    window = lake.read_window("churn", "2026-11-01", "2026-11-03")
    assert len(window) == 5
    assert sorted(set(window["dt"])) == [date(2026, 11, 1), date(2026, 11, 3)]
    with pytest.raises(PartitionMissing, match="2026-11-02"):
        lake.read_window("churn", "2026-11-01", "2026-11-03", require_all=True)
    with pytest.raises(PartitionMissing, match="no partitions"):
        lake.read_window("churn", "2025-01-01", "2025-01-02")


def test_missing_partition_error_names_dataset_and_date(lake: Lake) -> None:
    with pytest.raises(PartitionMissing, match=r"churn/dt=2026-11-07"):
        lake.read("churn", "2026-11-07")


def test_quarantine_moves_partition_aside_with_reason_and_keeps_the_bytes(lake: Lake) -> None:
    lake.write("churn", "2026-11-01", frame(4))
    lake.write("churn", "2026-11-02", frame(4))
    folder = lake.quarantine("churn", "2026-11-01", {"reason": "validation failed", "failed": ["nulls"]})
    assert not lake.exists("churn", "2026-11-01")
    assert lake.exists("churn", "2026-11-02"), "quarantine must not touch other dates"
    assert lake.dates("churn") == [date(2026, 11, 2)]
    [entry] = lake.quarantined("churn")
    assert entry["reason"] == "validation failed" and entry["failed"] == ["nulls"]
    assert entry["folder"] == folder
    kept = pd.read_parquet(__import__("io").BytesIO(lake.store.get(f"{folder}/part-00000.parquet")))
    pd.testing.assert_frame_equal(kept, frame(4))


def test_quarantine_twice_keeps_both_copies(lake: Lake) -> None:
    for _ in range(2):
        lake.write("churn", "2026-11-01", frame(4))
        lake.quarantine("churn", "2026-11-01", {"reason": "bad"})
    assert len(lake.quarantined("churn")) == 2


def test_quarantine_of_absent_partition_is_a_clear_error(lake: Lake) -> None:
    with pytest.raises(PartitionMissing, match="not in the lake"):
        lake.quarantine("churn", "2026-11-01", {"reason": "x"})


def test_a_concurrent_quarantine_of_the_same_rows_counts_as_done(lake: Lake) -> None:
    judged = lake.write("churn", "2026-11-01", frame(4))
    first = lake.quarantine("churn", "2026-11-01", {"reason": "bad"}, expected_hash=judged.content_hash)
    again = lake.quarantine("churn", "2026-11-01", {"reason": "bad"}, expected_hash=judged.content_hash)
    assert again == first and len(lake.quarantined("churn")) == 1
    with pytest.raises(PartitionMissing, match="not in the lake"):  # other rows were never quarantined
        lake.quarantine("churn", "2026-11-01", {"reason": "bad"}, expected_hash="0" * 16)


def test_a_quarantine_whose_partition_is_moved_meanwhile_keeps_its_copy(lake: Lake) -> None:
    judged = lake.write("churn", "2026-11-01", frame(4))
    copy = lake.store.put

    def other_task_moves_it(key: str, data: bytes) -> None:
        copy(key, data)
        if key.endswith("reason.json"):  # the winner deletes the partition between this copy and its delete
            lake.store.delete(partition_key("churn", "2026-11-01"))

    lake.store.put = other_task_moves_it
    folder = lake.quarantine("churn", "2026-11-01", {"reason": "bad"}, expected_hash=judged.content_hash)
    lake.store.put = copy
    assert [q["folder"] for q in lake.quarantined("churn")] == [folder]
    assert not lake.exists("churn", "2026-11-01")


def test_local_writes_are_atomic_renames(tmp_path, monkeypatch) -> None:
    """A failing write leaves the previous partition intact and no temporary file behind."""
    lake = Lake(LocalStore(tmp_path))
    lake.write("churn", "2026-11-01", frame(3))

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr("ml_platform.storage.os.replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        lake.write("churn", "2026-11-01", frame(9))
    monkeypatch.undo()
    assert len(lake.read("churn", "2026-11-01")) == 3
    assert [p.name for p in (tmp_path / "churn" / "dt=2026-11-01").iterdir()] == ["part-00000.parquet"]


def test_partition_key_layout() -> None:
    assert partition_key("churn", "2026-11-01T02:00:00") == "churn/dt=2026-11-01/part-00000.parquet"


def test_open_store_rejects_unknown_schemes() -> None:
    with pytest.raises(ValueError, match="unsupported storage URI"):
        open_store("gs://bucket/x")


def test_store_exists_is_exact_not_a_prefix_match(store_uri: str) -> None:
    store = open_store(store_uri)
    store.put("a/bc", b"x")
    assert store.exists("a/bc")
    assert not store.exists("a/b")
    assert store.list("a/") == ["a/bc"]
    store.delete("a/bc")
    assert not store.exists("a/bc")


def test_caller_metadata_cannot_overwrite_the_lakes_own_facts(lake: Lake) -> None:
    info = lake.write("support_kb", "2026-11-01", frame(3), {"rows": {"support_kb": 99}, "source": "demo"})
    assert lake.info("support_kb", "2026-11-01").rows == info.rows == 3


def test_quarantine_leaves_a_partition_relanded_meanwhile_in_place(lake: Lake) -> None:
    bad = pd.DataFrame({"id": [1, 2], "x": [None, 0.5]})
    judged = lake.write("churn", "2026-11-01", bad)
    fixed = pd.DataFrame({"id": [1, 2], "x": [0.1, 0.5]})
    copy = lake.store.put

    def reland_during_the_move(key: str, data: bytes) -> None:
        copy(key, data)
        if key.endswith("reason.json"):  # the fixed file lands between the copy and the delete
            lake.write("churn", "2026-11-01", fixed)

    lake.store.put = reland_during_the_move
    lake.quarantine("churn", "2026-11-01", {"reason": "validation failed"}, expected_hash=judged.content_hash)
    lake.store.put = copy
    pd.testing.assert_frame_equal(lake.read("churn", "2026-11-01"), fixed)
    [entry] = lake.quarantined("churn")
    assert entry["content_hash"] == judged.content_hash


def test_quarantine_of_a_partition_relanded_before_the_move_keeps_the_new_one(lake: Lake) -> None:
    judged = lake.write("churn", "2026-11-01", pd.DataFrame({"id": [1], "x": [None]}))
    relanded = lake.write("churn", "2026-11-01", pd.DataFrame({"id": [1], "x": [0.3]}))
    lake.quarantine("churn", "2026-11-01", {"reason": "validation failed"}, expected_hash=judged.content_hash)
    assert lake.info("churn", "2026-11-01").content_hash == relanded.content_hash
    [entry] = lake.quarantined("churn")
    assert "re-landed" in entry["left_in_place"]


def test_a_replaced_partition_keeps_its_earlier_rows(lake: Lake) -> None:
    first, second = pd.DataFrame({"x": [1, 2]}), pd.DataFrame({"x": [3]})
    lake.write("t", "2026-11-01", first, {"source": "landing"})
    lake.write("t", "2026-11-01", first, {"source": "landing"})  # same rows: nothing to keep
    assert lake.versions("t", "2026-11-01") == []
    lake.write("t", "2026-11-01", second, {"source": "landing"})
    kept = lake.versions("t", "2026-11-01")
    assert [v["content_hash"] for v in kept] == [content_hash(first)]
    assert "_versions/t/dt" in kept[0]["kept_at"] and kept[0]["rows"] == 2
    assert lake.read("t", "2026-11-01").equals(second)
    assert lake.dates("t") == [date(2026, 11, 1)], "kept versions are not partitions"


def test_a_partition_from_another_source_is_not_replaced_without_the_flag(lake: Lake) -> None:
    imported = pd.DataFrame({"x": [1, 2]})
    lake.write("t", "2026-11-01", imported, {"source": "import", "file": "/data/export.csv"})
    with pytest.raises(BadInput, match=r"t/dt=2026-11-01 .* came from 'import' \(/data/export.csv\); refusing"):
        lake.write("t", "2026-11-01", pd.DataFrame({"x": [9]}), {"source": "demo"})
    assert lake.read("t", "2026-11-01").equals(imported)
    lake.write("t", "2026-11-01", pd.DataFrame({"x": [9]}), {"source": "demo"}, replace_other_source=True)
    assert [v["source"] for v in lake.versions("t", "2026-11-01")] == ["import"]


def test_a_sensor_waiting_for_a_quarantined_day_fails_at_once_with_the_reason(lake: Lake) -> None:
    from datetime import timedelta

    lake.write("t", "2026-11-01", frame(3))
    lake.quarantine("t", "2026-11-01", {"reason": "validation failed", "failed": ["x not null"], "pipeline": "mon"})
    with pytest.raises(PartitionMissing, match=r"t/dt=2026-11-01 was quarantined \(validation failed: x not null\)"):
        lake.landed("t", "2026-11-01", waited=timedelta(0), patience=timedelta(hours=6))
    assert not lake.landed("t", "2026-11-02", waited=timedelta(0), patience=timedelta(hours=6))
    lake.write("t", "2026-11-01", frame(4))  # a fixed file re-landed: the wait is over
    assert lake.landed("t", "2026-11-01", waited=timedelta(0), patience=timedelta(hours=6))


def test_read_hash_finds_the_rows_live_kept_or_quarantined_and_names_rows_that_are_gone(lake: Lake) -> None:
    first, second, third = frame(3), frame(2, offset=10), frame(4, offset=20)
    lake.write("t", "2026-11-01", first)
    lake.write("t", "2026-11-01", second)  # first is kept under _versions/
    pd.testing.assert_frame_equal(lake.read_hash("t", "2026-11-01", content_hash(second)), second)
    pd.testing.assert_frame_equal(lake.read_hash("t", "2026-11-01", content_hash(first)), first)
    lake.quarantine("t", "2026-11-01", {"reason": "bad"})
    lake.write("t", "2026-11-01", third)
    pd.testing.assert_frame_equal(lake.read_hash("t", "2026-11-01", content_hash(second)), second)
    with pytest.raises(PartitionMissing, match=r"t/dt=2026-11-01 with content hash 0{16} is not in"):
        lake.read_hash("t", "2026-11-01", "0" * 16)


def test_info_and_metadata_read_only_the_parquet_footer(lake: Lake, monkeypatch) -> None:
    rng = np.random.default_rng(0)
    lake.write("t", "2026-11-01", pd.DataFrame({"x": rng.random(100_000)}), {"source": "demo"})
    size = len(lake.store.get(partition_key("t", "2026-11-01")))
    fetched: list[int] = []

    def counted(method):
        def call(*args):
            data = method(*args)
            fetched.append(len(data))
            return data

        return call

    for name in ("get", "get_tail"):
        if hasattr(lake.store, name):
            monkeypatch.setattr(lake.store, name, counted(getattr(lake.store, name)))
    replies: list[int] = []  # S3: what the HTTP replies carried, not only what the store returned
    if hasattr(lake.store, "client"):
        on_reply = lambda parsed, **_: replies.append(parsed["ContentLength"])  # noqa: E731
        lake.store.client.meta.events.register("after-call.s3.GetObject", on_reply)
    info, meta = lake.info("t", "2026-11-01"), lake.metadata("t", "2026-11-01")
    assert info.rows == 100_000 and meta["source"] == "demo" and info.content_hash == meta["content_hash"]
    assert fetched and sum(fetched) < size / 50, f"fetched {sum(fetched)} bytes of a {size}-byte partition"
    assert sum(replies) == (sum(fetched) if hasattr(lake.store, "client") else 0)


def test_get_tail_serves_the_last_bytes_or_the_whole_object(store_uri: str) -> None:
    store = open_store(store_uri)
    store.put("a/b", b"0123456789")
    assert store.get_tail("a/b", 3) == b"789" and store.get_tail("a/b", 99) == b"0123456789"
    with pytest.raises(KeyError):
        store.get_tail("a/missing", 3)


def _on_live_put(lake: Lake, before=None, after=None) -> None:
    """Run `before`/`after` around this lake's put of the live t/dt=2026-11-01 partition (not its kept copies)."""
    put = lake.store.put

    def hooked(key: str, data: bytes) -> None:
        live = key == partition_key("t", "2026-11-01")
        if live and before:
            before()
        put(key, data)
        if live and after:
            after()

    lake.store.put = hooked


def _kept_hashes(lake: Lake) -> set[str]:
    return {v["content_hash"] for v in lake.versions("t", "2026-11-01")}


def test_rows_another_writer_lands_while_the_old_ones_are_kept_are_kept_too(store_uri: str) -> None:
    ours, theirs = Lake.at(store_uri), Lake.at(store_uri)
    old, their_rows, our_rows = frame(1), frame(2, offset=10), frame(3, offset=20)
    ours.write("t", "2026-11-01", old)
    put = ours.store.put

    def their_write_lands_meanwhile(key: str, data: bytes) -> None:
        put(key, data)
        if key.startswith("_versions/") and not _kept_hashes(ours) - {content_hash(old)}:
            theirs.write("t", "2026-11-01", their_rows)  # after our read of the live rows, before our put

    ours.store.put = their_write_lands_meanwhile
    ours.write("t", "2026-11-01", our_rows)
    assert ours.read("t", "2026-11-01").equals(our_rows)
    assert _kept_hashes(ours) == {content_hash(old), content_hash(their_rows)}, "the other writer's rows were lost"


def test_a_writer_whose_put_is_replaced_at_once_keeps_its_own_rows(store_uri: str) -> None:
    import threading

    first, second = Lake.at(store_uri), Lake.at(store_uri)
    old, first_rows, second_rows = frame(1), frame(2, offset=10), frame(3, offset=20)
    first.write("t", "2026-11-01", old)
    first_landed, second_landed = threading.Event(), threading.Event()
    first_writes = threading.Thread(target=first.write, args=("t", "2026-11-01", first_rows))
    # Both read the old rows; the second's put lands between the first's put and anything the first does next.
    _on_live_put(first, after=lambda: (first_landed.set(), second_landed.wait(30)))
    _on_live_put(second, before=lambda: (first_writes.start(), first_landed.wait(30)), after=second_landed.set)
    second.write("t", "2026-11-01", second_rows)
    first_writes.join(30)
    assert second.read("t", "2026-11-01").equals(second_rows)
    assert _kept_hashes(second) == {content_hash(old), content_hash(first_rows)}, "the first writer's rows were lost"
