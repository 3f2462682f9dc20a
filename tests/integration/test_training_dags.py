"""churn_training and fraud_training end to end on a real Airflow metadata DB and a real MLflow registry:
first champions, idempotent reruns, a bad partition stopped at validation, a rollback, and a backfill that
records decisions without moving any alias."""

from __future__ import annotations

import json
import shutil
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


def test_the_ml_ops_view_shows_the_runs_and_rolls_back_in_a_browser(history, running_airflow) -> None:
    """The plugin in the running api-server, behind Airflow's login, read in headless Chromium: champions,
    decisions, a trend chart and reports from the records this module's runs wrote; then a rollback through
    the view's button, executed by the scheduler, and the decision it recorded."""
    import httpx
    from selenium.webdriver.common.by import By

    from tests.integration.browser import chromium, log_in, wait_for
    from tests.integration.conftest import ADMIN, ADMIN_PASSWORD, REPO, VIEWER, VIEWER_PASSWORD

    base = f"http://127.0.0.1:{history.env['AIRFLOW__API__PORT']}"
    reason = "forced so that the view can roll it back"
    conf = json.dumps({"force_promote": True, "force_reason": reason, "hyperparameters": {"max_depth": 3}})
    # Paused first: the drift test unpaused it, and the running scheduler would also pick up the tasks of the
    # run `dags test` creates (TaskAlreadyRunningError).
    running_airflow.cli("dags", "pause", "churn_training")
    history.cli("dags", "test", "churn_training", (DAY + timedelta(days=3)).isoformat(), "-c", conf)
    before = aliases(history, "churn-xgboost")
    assert {"champion", "previous"} <= set(before)

    assert httpx.get(f"{base}/ml-ops/").status_code == 401  # anonymous
    rollback = {"model": "churn", "reason": "nobody may do this anonymously"}
    assert httpx.post(f"{base}/ml-ops/rollback", data=rollback, headers={"Origin": base}).status_code == 401
    login = {"username": VIEWER, "password": VIEWER_PASSWORD}
    token = httpx.post(f"{base}/auth/token", json=login).json()["access_token"]
    page = httpx.get(f"{base}/ml-ops/", cookies={"_token": token})
    assert page.status_code == 200 and "churn-xgboost" in page.text and "Roll back" not in page.text
    as_viewer = {"Authorization": f"Bearer {token}", "Origin": base}
    assert httpx.post(f"{base}/ml-ops/rollback", data=rollback, headers=as_viewer).status_code == 403

    running_airflow.cli("dags", "unpause", "model_rollback")
    shots = Path(history.env["REPORTS_URI"]) / "ml_ops_view" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    with chromium() as browser:
        log_in(browser, base, ADMIN, ADMIN_PASSWORD, then="/plugin/ml-ops")
        frame = wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "iframe[src*='/ml-ops/']"))[0]
        assert "ML Ops" in browser.find_element(By.TAG_NAME, "body").text  # the navigation's entry
        browser.switch_to.frame(frame)
        wait_for(browser, lambda d: "Registered models" in d.find_element(By.TAG_NAME, "body").text)
        browser.switch_to.default_content()
        browser.save_screenshot(str(shots / "airflow_navigation.png"))

        browser.get(f"{base}/ml-ops/")
        churn = browser.find_element(By.ID, "model-churn").text
        assert f"Champion version {before['champion']}" in churn and f"previous v{before['previous']}" in churn
        assert "roc_auc" in churn and "auc_vs_best" in churn
        assert "Champion version 1" in browser.find_element(By.ID, "model-fraud").text
        browser.save_screenshot(str(shots / "models.png"))

        browser.get(f"{base}/ml-ops/decisions?model=fraud")
        verdicts = [row.text for row in browser.find_elements(By.CSS_SELECTOR, "#decisions tr")[1:]]
        assert sum("recorded_only" in row for row in verdicts) >= 3 and any("promote" in row for row in verdicts)
        assert all(" fraud " in f" {row} " for row in verdicts)
        browser.save_screenshot(str(shots / "decisions.png"))

        browser.get(f"{base}/ml-ops/trends/churn")
        assert "churn: roc_auc per training date" in browser.find_element(By.CSS_SELECTOR, ".chart svg").text
        points = browser.find_elements(By.CSS_SELECTOR, "#trend tr")[1:]
        assert len(points) >= 4 and (DAY + timedelta(days=6)).isoformat() in points[0].text
        browser.save_screenshot(str(shots / "trends_churn.png"))

        browser.get(f"{base}/ml-ops/reports")
        validation = browser.find_element(By.CSS_SELECTOR, "a[href*='churn_training/'][href$='validation.html']")
        browser.get(validation.get_attribute("href"))
        assert "values must never be null" in browser.page_source  # GX's own page, through the plugin

        browser.get(f"{base}/ml-ops/")
        form = browser.find_element(By.CSS_SELECTOR, "#model-churn form.rollback")
        form.find_element(By.NAME, "reason").send_keys("rolled back from the ML Ops view in the browser test")
        form.find_element(By.TAG_NAME, "button").click()
        decision = wait_for(browser, lambda d: d.find_elements(By.ID, "rollback-decision"), timeout=300)[0].text
        assert "rollback" in decision and f"champion {before['champion']} → {before['previous']}" in decision
        assert browser.find_element(By.ID, "run-state").text == "success"
        browser.save_screenshot(str(shots / "rollback.png"))
    assert aliases(history, "churn-xgboost")["champion"] == before["previous"]
    kept = REPO / ".local" / "screenshots" / "ml_ops_view"  # for people to look at after `make test`
    shutil.copytree(shots, kept, dirs_exist_ok=True)
