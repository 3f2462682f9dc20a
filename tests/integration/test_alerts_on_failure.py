"""Every DAG fails once, for real, and its alert points at the folder where that DAG writes its records.

A run for a date in the future is refused by each DAG's first task (a typed BadInput, which the retry policy
does not retry), so every DAG of the bag fails in seconds through Airflow's own task runner and failure
callback. The tests that run each DAG successfully check that its records land in that same folder.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ml_platform import names
from ml_platform.config.tabular import load_model_config, model_names
from ml_platform.reports import Reports
from tests.helpers import Receiver

pytestmark = [pytest.mark.integration, pytest.mark.slow]
REPO = Path(__file__).resolve().parents[2]
FUTURE = (datetime.now(UTC) + timedelta(days=400)).date()


ROLLBACK_CONF = {"model": "churn", "reason": "alert routing test"}


def every_dag_id() -> set[str]:
    training = {load_model_config(m).pipeline for m in model_names()}
    return {names.INGEST, names.MONITORING, names.KB_REFRESH, names.LLM_FINETUNE, names.ROLLBACK} | training


def test_every_dag_fails_once_and_its_alert_points_at_its_records_folder(embedded_airflow) -> None:
    receiver = Receiver()
    plan = [
        {"dag_id": dag_id, "date": FUTURE.isoformat(), "conf": ROLLBACK_CONF if dag_id == names.ROLLBACK else None}
        for dag_id in sorted(every_dag_id())
    ]
    try:
        runs = {r["dag_id"]: r["state"] for r in embedded_airflow.dag_tests(plan, {"ALERT_WEBHOOK_URL": receiver.url})}
    finally:
        receiver.close()
    expected = every_dag_id()
    assert set(runs) == expected and set(runs.values()) == {"failed"}, runs
    reports = Reports.at(embedded_airflow.env["REPORTS_URI"])
    alerted = {alert["dag_id"] for alert in receiver.received}
    assert alerted == expected, f"no alert from {expected - alerted}"
    for alert in receiver.received:
        assert alert["date"] == FUTURE.isoformat() and alert["failed_gate"] == "bad_input", alert
        assert alert["retryable"] is False and "in the future" in alert["message"], alert
        assert alert["report_url"] == reports.folder_url(alert["dag_id"], FUTURE), alert
    assert {a["model"] for a in receiver.received if a["dag_id"] == names.ROLLBACK} == {"churn"}
