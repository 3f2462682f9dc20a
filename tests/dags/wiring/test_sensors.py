"""The partition sensor: true once the partition landed, false while waiting, a named failure after PATIENCE."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from wiring.sensors import PATIENCE, partition_sensor

from ml_platform.errors import PartitionMissing
from ml_platform.lake import Lake
from tests.dags.wiring.fakes import FakeRun, context


def poke(started: datetime) -> bool:
    return partition_sensor("churn").operator.python_callable(**context(FakeRun(start_date=started)))


def test_the_sensor_waits_then_names_the_missing_partition(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("LAKE_URI", str(tmp_path / "lake"))
    assert poke(datetime.now(UTC)) is False
    with pytest.raises(PartitionMissing, match=r"churn/dt=2026-11-21 has not landed") as missing:
        poke(datetime.now(UTC) - PATIENCE - timedelta(minutes=1))
    assert missing.value.retryable is False
    Lake.at(str(tmp_path / "lake")).write("churn", "2026-11-21", pd.DataFrame({"a": [1]}))
    assert poke(datetime.now(UTC)) is True
