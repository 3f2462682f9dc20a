"""churn_training and fraud_training end to end on a real Airflow metadata DB and a real MLflow registry:
first champions, idempotent reruns, a bad partition stopped at validation, a rollback, and a backfill that
records decisions without moving any alias."""

from __future__ import annotations

import json
import subprocess
from datetime import date, timedelta
from pathlib import Path

import pytest

from ml_platform.lake import Lake
from ml_platform.reports import Reports

pytestmark = [pytest.mark.integration, pytest.mark.slow]
DAY = date(2026, 8, 20)
HISTORY_DAYS = 8


def cli(airflow, *args: str) -> subprocess.CompletedProcess:
    bin_dir = Path(airflow.env["PATH"].split(":")[0])
    return subprocess.run(
        [str(bin_dir / "ml-platform"), *args], env=airflow.env, capture_output=True, text=True, check=True, timeout=600
    )


def registry(airflow):
    import mlflow

    mlflow.set_tracking_uri(airflow.env["MLFLOW_TRACKING_URI"])
    return mlflow.MlflowClient()


def aliases(airflow, model: str) -> dict[str, str]:
    return {k: str(v) for k, v in registry(airflow).get_registered_model(model).aliases.items()}


def versions(airflow, model: str) -> list[str]:
    return sorted(str(v.version) for v in registry(airflow).search_model_versions(f"name = '{model}'"))


def decision(airflow, model: str, day: date) -> dict:
    return Reports.at(airflow.env["REPORTS_URI"]).read_json(f"{model}_training", day, "decision")


@pytest.fixture(scope="module")
def history(embedded_airflow):
    """Demo partitions for the days up to DAY + 4 (the backfill and bad-data days need theirs too)."""
    cli(
        embedded_airflow,
        "demo-data",
        "--end",
        (DAY + timedelta(days=4)).isoformat(),
        "--days",
        str(HISTORY_DAYS + 4),
        "--group",
        "churn",
        "--group",
        "fraud",
    )
    return embedded_airflow


@pytest.mark.parametrize("model", ["churn", "fraud"])
def test_first_run_registers_a_champion_with_a_decision_record(history, model: str) -> None:
    done = history.cli("dags", "test", f"{model}_training", DAY.isoformat())
    assert "state=success" in done.stdout + done.stderr
    assert aliases(history, f"{model}-xgboost")["champion"] == "1"
    record = decision(history, model, DAY)
    assert record["verdict"] == "promote" and record["champion_after"] == "1"
    assert "first champion" in record["reasons"][0]
    assert {g["gate"] for g in record["gates"]} == {"validation", "floors", "primary_metric", "guardrails", "drift"}
    assert (Path(history.env["REPORTS_URI"]) / f"{model}_training" / DAY.isoformat() / "validation.html").exists()
    run = registry(history).get_run(registry(history).get_model_version(f"{model}-xgboost", "1").run_id)
    assert run.data.tags["partition_date"] == DAY.isoformat()
    assert run.data.metrics["test_roc_auc"] > 0.6 and "oracle_roc_auc" in run.data.metrics
    artifacts = {a.path for a in registry(history).list_artifacts(run.info.run_id)}
    assert {"plots", "decisions", "data", "validation"} <= artifacts


def test_rerunning_the_same_date_neither_retrains_nor_promotes_again(history) -> None:
    before_versions = versions(history, "churn-xgboost")
    first = decision(history, "churn", DAY)
    history.cli("dags", "test", "churn_training", DAY.isoformat())
    again = decision(history, "churn", DAY)
    assert versions(history, "churn-xgboost") == before_versions
    assert again["verdict"] == "unchanged"
    assert again["challenger_metrics"] == first["challenger_metrics"]
    assert aliases(history, "churn-xgboost")["champion"] == "1"


def test_bad_partition_fails_at_validation_is_quarantined_and_the_champion_stays(history) -> None:
    bad_day = DAY + timedelta(days=1)
    env = history.env | {"DEMO_BAD_DATA": f"churn:{bad_day}:null_burst"}
    subprocess.run(
        [
            str(Path(env["PATH"].split(":")[0]) / "ml-platform"),
            "ingest",
            "churn",
            "--date",
            bad_day.isoformat(),
            "--source",
            "demo",
        ],
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    champion_before = aliases(history, "churn-xgboost")
    versions_before = versions(history, "churn-xgboost")
    done = history.cli("dags", "test", "churn_training", bad_day.isoformat(), check=False)
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert "expect_column_values_to_not_be_null" in output and "failed" in output
    lake = Lake.at(history.env["LAKE_URI"])
    assert not lake.exists("churn", bad_day)
    [entry] = [q for q in lake.quarantined("churn") if q["dt"] == bad_day.isoformat()]
    assert entry["reason"] == "validation failed" and entry["validation_report"].endswith("validation.html")
    assert aliases(history, "churn-xgboost") == champion_before
    assert versions(history, "churn-xgboost") == versions_before


def test_rollback_moves_champion_back_to_previous_with_a_reason(history) -> None:
    reason = "forced for the rollback test"
    conf = json.dumps({"force_promote": True, "force_reason": reason, "hyperparameters": {"max_depth": 2}})
    history.cli("dags", "test", "churn_training", (DAY + timedelta(days=2)).isoformat(), "-c", conf)
    forced = decision(history, "churn", DAY + timedelta(days=2))
    assert forced["verdict"] == "promote" and forced["forced"] and forced["force_reason"] == reason
    promoted = aliases(history, "churn-xgboost")
    assert promoted["previous"] == "1" and promoted["champion"] != "1"
    conf = json.dumps({"model": "churn", "reason": "new model misbehaves on the billing segment"})
    history.cli("dags", "test", "model_rollback", "-c", conf)
    assert aliases(history, "churn-xgboost")["champion"] == "1"
    [record] = (Path(history.env["REPORTS_URI"]) / "model_rollback").glob("*/churn_rollback.json")
    rollback = Reports.at(history.env["REPORTS_URI"]).read_json("model_rollback", record.parent.name, "churn_rollback")
    assert rollback["verdict"] == "rollback"


def test_a_three_day_backfill_records_decisions_but_moves_no_alias(history, running_airflow) -> None:
    before = {m: aliases(history, f"{m}-xgboost") for m in ("churn", "fraud")}
    start, end = DAY + timedelta(days=2), DAY + timedelta(days=4)
    running_airflow.cli("dags", "unpause", "fraud_training")
    running_airflow.cli(
        "backfill",
        "create",
        "--dag-id",
        "fraud_training",
        "--from-date",
        start.isoformat(),
        "--to-date",
        f"{end.isoformat()}T23:59:59",
    )
    runs = running_airflow.wait_for_runs("fraud_training", "backfill__", 3)
    assert {r["state"] for r in runs} == {"success"}, runs
    for offset in range(3):
        record = decision(history, "fraud", start + timedelta(days=offset))
        assert record["run_type"] == "backfill"
        assert record["verdict"] == "recorded_only" and not record["aliases_moved"]
    assert {m: aliases(history, f"{m}-xgboost") for m in ("churn", "fraud")} == before


def test_a_drifted_day_triggers_retraining_whose_decision_names_the_drift_gate(history, running_airflow) -> None:
    drifted_day = DAY + timedelta(days=6)
    bin_dir = Path(history.env["PATH"].split(":")[0])
    env = history.env | {"DEMO_DRIFT_ONSET": (DAY + timedelta(days=5)).isoformat()}
    for group in ("churn", "fraud", "support"):
        subprocess.run(
            [
                str(bin_dir / "ml-platform"),
                "demo-data",
                "--end",
                drifted_day.isoformat(),
                "--days",
                "2",
                "--group",
                group,
            ],
            env=env,
            check=True,
            capture_output=True,
            timeout=300,
        )
    running_airflow.cli("dags", "unpause", "churn_training")  # asset-triggered runs need an unpaused DAG
    before = [r for r in running_airflow.runs("churn_training") if r["run_id"].startswith("asset_triggered__")]
    history.cli("dags", "test", "model_monitoring", drifted_day.isoformat())
    verdict = json.loads(
        (
            Path(history.env["REPORTS_URI"]) / "model_monitoring" / drifted_day.isoformat() / "churn_drift.json"
        ).read_text()
    )
    assert verdict["verdict"] == "drifted" and verdict["drifted_features"]
    html = Path(history.env["REPORTS_URI"]) / "model_monitoring" / drifted_day.isoformat() / "churn_drift.html"
    assert all(feature in html.read_text() for feature in verdict["drifted_features"][:3])
    runs = running_airflow.wait_for_runs("churn_training", "asset_triggered__", len(before) + 1, fail_nightly=True)
    assert runs[0]["state"] == "success", runs[0]
    record = decision(history, "churn", drifted_day)
    assert record["run_type"] == "asset_triggered"
    [drift_gate] = [g for g in record["gates"] if g["gate"] == "drift"]
    assert "data drifted" in drift_gate["detail"]
    assert record["facts"]["drift"]["drifted"] is True
