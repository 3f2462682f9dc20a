"""Every DAG fails once, for real, and its alert points at the folder where that DAG writes its records.

A run for a date in the future is refused by each DAG's first task (a typed BadInput, which the retry policy
does not retry), so every DAG of the bag fails in seconds through Airflow's own task runner and failure
callback. The tests that run each DAG successfully check that its records land in that same folder.
"""

from __future__ import annotations

import json
import subprocess
import sys
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

FAIL_EVERY_DAG = """
import json, sys
from datetime import datetime, timezone
sys.path.insert(0, sys.argv[1])  # as Airflow's DAG processor does, so `wiring` imports
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder=sys.argv[1])
assert not bag.import_errors, bag.import_errors
moment = datetime.fromisoformat(sys.argv[2]).replace(tzinfo=timezone.utc)
for dag_id, dag in sorted(bag.dags.items()):
    conf = {"model": "churn", "reason": "alert routing test"} if dag_id == "model_rollback" else None
    run = dag.test(logical_date=moment, run_conf=conf)
    print("RUN " + json.dumps({"dag_id": dag_id, "state": str(run.state)}), flush=True)
"""


def test_every_dag_fails_once_and_its_alert_points_at_its_records_folder(embedded_airflow) -> None:
    receiver = Receiver()
    try:
        done = subprocess.run(
            [sys.executable, "-c", FAIL_EVERY_DAG, str(REPO / "dags"), FUTURE.isoformat()],
            env=embedded_airflow.env | {"ALERT_WEBHOOK_URL": receiver.url},
            capture_output=True,
            text=True,
            timeout=600,
            cwd=REPO,
        )
    finally:
        receiver.close()
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    runs = {r["dag_id"]: r["state"] for r in map(json.loads, _lines(done.stdout, "RUN "))}
    expected = {names.INGEST, names.MONITORING, names.KB_REFRESH, names.LLM_FINETUNE, names.ROLLBACK}
    expected |= {load_model_config(m).pipeline for m in model_names()}
    assert set(runs) == expected and set(runs.values()) == {"failed"}, runs
    reports = Reports.at(embedded_airflow.env["REPORTS_URI"])
    alerted = {alert["dag_id"] for alert in receiver.received}
    assert alerted == expected, f"no alert from {expected - alerted}"
    for alert in receiver.received:
        assert alert["date"] == FUTURE.isoformat() and alert["failed_gate"] == "bad_input", alert
        assert alert["retryable"] is False and "in the future" in alert["message"], alert
        assert alert["report_url"] == reports.folder_url(alert["dag_id"], FUTURE), alert
    assert {a["model"] for a in receiver.received if a["dag_id"] == names.ROLLBACK} == {"churn"}


def _lines(text: str, prefix: str) -> list[str]:
    return [line.removeprefix(prefix) for line in text.splitlines() if line.startswith(prefix)]
