"""ingest_daily end to end on a real Airflow metadata DB: `airflow dags test` for a past date, and a
backfill over a range executed by a running scheduler."""

from __future__ import annotations

from datetime import date

import pytest

from ml_platform import names
from ml_platform.config.pipelines import load_ingest_config
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
