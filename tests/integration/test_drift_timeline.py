"""21 days with the demo drift onset inside: a champion trained before the onset is monitored every day
against its own training data; the verdict flips within two days of the onset and not before it, and the
timeline (table + PNG) shows it. Real lake, real MLflow registry, real Evidently reports."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from ml_platform.config.pipelines import load_ingest_config
from ml_platform.config.tabular import load_model_config
from ml_platform.datasets.scenario import Scenario, load_demo_config
from ml_platform.pipelines.ingest import ingest_step
from ml_platform.pipelines.monitoring import tabular_monitor_step, write_timeline
from ml_platform.pipelines.tabular import decide_step, train_step, validate_step
from ml_platform.run_context import RunContext

pytestmark = [pytest.mark.integration, pytest.mark.slow]
START = date(2026, 6, 1)
DAYS = [START + timedelta(days=i) for i in range(21)]
ONSET = START + timedelta(days=14)
CHAMPION_DAY = START + timedelta(days=6)


@pytest.fixture(scope="module")
def monitored(tmp_path_factory):
    from ml_platform.settings import Settings

    root = tmp_path_factory.mktemp("drift")
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {
            "LAKE_URI": root / "lake",
            "REPORTS_URI": root / "reports",
            "MLFLOW_TRACKING_URI": f"sqlite:///{root / 'mlflow.db'}",
            "MLFLOW_ARTIFACTS_URI": root / "artifacts",
            "DEMO_SCALE": "0.3",
        }.items():
            patch.setenv(name, str(value))
        settings = Settings.from_env()
        demo = load_demo_config(latest=DAYS[-1], env={"DEMO_SCALE": "0.3"})
        demo = demo.__class__(demo.days, demo.sizes, Scenario(drift_onset=ONSET), demo.scale)
        groups = load_ingest_config().groups
        for day in DAYS:
            for group in ("churn", "fraud"):
                ingest_step(groups[group].for_run({"source": "demo"}), settings, RunContext(day, "local"), demo)
        records = {}
        for name in ("churn", "fraud"):
            config = load_model_config(name)
            ctx = RunContext(CHAMPION_DAY, "scheduled", "champion-run", config.pipeline)
            validation = validate_step(config, settings, ctx)
            decide_step(config, settings, ctx, train_step(config, settings, ctx), validation)
            records[name] = {
                day: tabular_monitor_step(config, settings, RunContext(day, "backfill", f"b-{day}")) for day in DAYS[7:]
            }
        timeline = write_timeline(settings, ["churn", "fraud"], DAYS[7], DAYS[-1], ONSET)
        yield records, timeline


@pytest.mark.parametrize("model", ["churn", "fraud"])
def test_verdict_flips_within_two_days_of_onset_and_not_before(monitored, model: str) -> None:
    records, _ = monitored
    verdicts = {day: record["verdict"] for day, record in records[model].items()}
    before = [day for day, verdict in verdicts.items() if day < ONSET and verdict == "drifted"]
    assert not before, f"{model}: false alarms before the onset on {before}"
    first = min(day for day, verdict in verdicts.items() if verdict == "drifted")
    assert ONSET <= first <= ONSET + timedelta(days=2), f"{model}: first drifted day {first}, onset {ONSET}"


def test_timeline_reports_detection_delay_and_false_alarms(monitored) -> None:
    _, timeline = monitored
    table, alarms = timeline["table"], timeline["alarms"]
    assert set(table["model"]) == {"churn", "fraud"} and len(table) == 2 * 14
    for model in ("churn", "fraud"):
        summary = alarms[model]
        print(model, summary)
        assert summary["false_alarms"] == 0, summary["false_alarm_days"]
        assert summary["detected"] and 0 <= summary["detection_delay_days"] <= 2
    assert timeline["plot"].endswith("drift_timeline.png")


def test_reports_name_the_drifted_features_and_their_tests(monitored) -> None:
    records, _ = monitored
    after = records["churn"][ONSET + timedelta(days=2)]
    assert after["drifted_features"]
    assert all(f["test"] for f in after["features"])
    assert after["html_report"].endswith("churn_drift.html")
