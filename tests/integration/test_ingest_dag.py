"""ingest_daily end to end on a real Airflow metadata DB: `airflow dags test` for a past date, and a
backfill over a range executed by a running scheduler."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from ml_platform import names
from ml_platform.config.pipelines import load_ingest_config
from ml_platform.datasets.scenario import load_demo_config
from ml_platform.datasets.sources import demo_tables
from ml_platform.lake import Lake
from ml_platform.reports import Reports

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ALL_TABLES = load_ingest_config().tables


def test_no_import_errors_in_the_embedded_home(embedded_airflow) -> None:
    out = embedded_airflow.cli("dags", "list-import-errors").stdout
    assert "No data found" in out


def test_dags_test_lands_every_table_for_a_past_date(embedded_airflow) -> None:
    done = embedded_airflow.cli("dags", "test", "ingest_daily", "2026-10-15")
    assert "success" in done.stdout + done.stderr
    lake = Lake.at(embedded_airflow.env["LAKE_URI"])
    for table in ALL_TABLES:
        assert lake.dates(table, "2026-10-01", "2026-10-31") == [date(2026, 10, 15)], table
    # The records land in the folder named after the DAG, where its alerts point.
    reports = Reports.at(embedded_airflow.env["REPORTS_URI"])
    for group in load_ingest_config().groups:
        assert reports.find_json(names.INGEST, "2026-10-15", group)["group"] == group


def test_backfill_over_a_range_runs_on_the_scheduler(running_airflow) -> None:
    running_airflow.cli("dags", "unpause", "ingest_daily")
    running_airflow.cli(
        "backfill",
        "create",
        "--dag-id",
        "ingest_daily",
        "--from-date",
        "2026-09-01",
        "--to-date",
        "2026-09-03T23:59:59",
    )
    backfills = running_airflow.wait_for_runs("ingest_daily", "backfill__", 3, timeout=300)
    assert {r["state"] for r in backfills} == {"success"}, backfills
    lake = Lake.at(running_airflow.env["LAKE_URI"])
    expected = [date(2026, 9, d) for d in (1, 2, 3)]
    for table in ALL_TABLES:
        assert lake.dates(table, "2026-09-01", "2026-09-30") == expected, table


# The demo's planted PII: "my email is ...", "call me back on ...", "my card number is ...", "please send it to ...".
PLANTED = re.compile(r"(?:my email is|call me back on|my card number is|please send it to) (.+?)(?:[.?!]\s|$)")


def planted_pii(env: dict[str, str], days: list[date], monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """The PII values the generator planted in those days' chats, regenerated from the same seed and sizes."""
    monkeypatch.setenv("DEMO_SCALE", env["DEMO_SCALE"])
    group = load_ingest_config().groups["support"]
    values = set()
    for day in days:
        chats, _ = demo_tables(group, day, 42, load_demo_config())["support_chats"]
        for question in chats.loc[chats["contains_pii"], "question"]:
            values |= {m.group(1) for m in PLANTED.finditer(question)}
    return values


def test_nothing_planted_reaches_the_lake(embedded_airflow, monkeypatch) -> None:
    """Every file in the lake (partitions, earlier versions, quarantine), every text value: no planted e-mail,
    card, phone or address survives ingest, while the placeholders that replaced them are there."""
    lake_root = Path(embedded_airflow.env["LAKE_URI"])
    days = Lake.at(str(lake_root)).dates("support_chats")
    planted = planted_pii(embedded_airflow.env, days, monkeypatch)
    assert len(planted) >= 4 and any("@" in v for v in planted), planted
    texts = []
    for path in lake_root.rglob("*.parquet"):
        frame = pd.read_parquet(path)
        texts += [v for column in frame.columns if frame[column].dtype == object for v in frame[column].dropna()]
    leaked = sorted({v for v in planted if any(v in str(text) for text in texts)})
    assert not leaked, leaked
    assert any(re.search(r"\[(?:EMAIL|CARD|PHONE|ADDRESS)\]", str(text)) for text in texts)
