"""What each page of the ML Ops view shows, from records the real pipeline steps write in this test: churn
validated, trained and judged on two days (the second forced, so it has a previous version), a drift check, a
rollback, and two index refreshes (the second a backfill, recorded only)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from ml_platform.config.assistant import load_assistant_config
from ml_platform.config.tabular import load_model_config
from ml_platform.dashboard import charts, records
from ml_platform.datasets.churn import generate_churn
from ml_platform.datasets.scenario import Scenario
from ml_platform.lake import Lake
from ml_platform.pipelines.monitoring import tabular_monitor_step
from ml_platform.pipelines.retrieval import refresh_step
from ml_platform.pipelines.tabular import decide_step, rollback_step, train_step, validate_step
from ml_platform.registry import ModelRegistry
from ml_platform.reports import Reports
from ml_platform.run_context import RunContext
from ml_platform.settings import Settings
from tests.conftest import REPO

DAY = date(2026, 11, 20)
DRIFT_THRESHOLD = load_model_config("churn").monitoring.drift_share_threshold
pytestmark = pytest.mark.slow


def _train_and_decide(settings: Settings, day: date, params: dict) -> dict:
    config = load_model_config("churn").for_run(params)
    ctx = RunContext(day, "manual", f"manual__{day}", "churn_training", params=params)
    validation = validate_step(config, settings, ctx)
    return decide_step(config, settings, ctx, train_step(config, settings, ctx), validation)


def _build(settings: Settings) -> None:
    lake = Lake.at(settings.lake_uri)
    for offset in range(8, -1, -1):
        day = DAY - timedelta(days=offset)
        lake.write("churn", day, *generate_churn(day, 1, Scenario(), rows=400, population=2000))
    small = {"train_days": 5, "hyperparameters": {"n_estimators": 20}}
    _train_and_decide(settings, DAY - timedelta(days=1), small)
    forced = {**small, "force_promote": True, "force_reason": "forced in the view's test"}
    _train_and_decide(settings, DAY, forced | {"hyperparameters": {"n_estimators": 25, "max_depth": 2}})
    tabular_monitor_step(load_model_config("churn"), settings, RunContext(DAY, "scheduled", "scheduled__m"))
    rollback = {"model": "churn", "reason": "the forced version misbehaves"}
    rollback_step(load_model_config("churn"), settings, RunContext(DAY, "manual", "manual__rb", params=rollback))
    _refresh_twice(settings)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Settings:
    """Built once per test session: under pytest-xdist the second worker waits for the first one's world
    (the pattern xdist documents) instead of spending another half minute of CPU on the same records."""
    from filelock import FileLock

    shared = worker_id != "master"
    root = tmp_path_factory.getbasetemp().parent / "ml_ops_view" if shared else tmp_path_factory.mktemp("view")
    env = {
        "PLATFORM_ROOT": str(REPO),
        "LAKE_URI": str(root / "lake"),
        "REPORTS_URI": str(root / "reports"),
        "MLFLOW_TRACKING_URI": f"sqlite:///{root / 'mlflow.db'}",
        "MLFLOW_ARTIFACTS_URI": str(root / "mlflow-artifacts"),
        "VECTOR_STORE_URI": str(root / "vectors"),
        "PLATFORM_SEED": "7",
        "DEMO_SCALE": "0.1",
    }
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        settings = Settings.from_env()
        root.mkdir(parents=True, exist_ok=True)
        with FileLock(str(root) + ".lock"):
            if not (root / "built").exists():
                _build(settings)
                (root / "built").touch()
        yield settings


def _refresh_twice(settings: Settings) -> None:
    from ml_platform.config.pipelines import load_ingest_config
    from ml_platform.pipelines.ingest import ingest_step

    support = load_ingest_config().groups["support"]
    assistant = load_assistant_config()
    for day, run_type in ((DAY, "scheduled"), (DAY - timedelta(days=1), "backfill")):
        ingest_step(support, settings, RunContext(day, "local"), None)
        refresh_step(assistant, settings, RunContext(day, run_type, f"{run_type}__{day}"))


def reports(settings: Settings) -> Reports:
    return Reports.at(settings.reports_uri)


def test_decisions_are_newest_first_with_their_failed_gates_and_the_rollback(world: Settings) -> None:
    rows = records.decisions(reports(world), "churn")
    assert [r["verdict"] for r in rows] == ["rollback", "promote", "promote"]
    rollback, forced, first = rows
    assert rollback["champion_before"] == forced["champion_after"] == "2" and rollback["champion_after"] == "1"
    assert forced["forced"] and first["champion_before"] is None
    assert rollback["reasons"] == ["manual rollback: the forced version misbehaves"]
    assert all(r["record_key"].startswith(("churn_training/", "model_rollback/")) for r in rows)
    assert records.decisions(reports(world), "fraud") == []
    assert records.decisions(reports(world), limit=1) == rows[:1]


def test_models_show_champion_previous_and_since_when_the_champion_holds(world: Settings) -> None:
    overview = {m["model"]: m for m in records.models_overview(reports(world), ModelRegistry(world))}
    churn = overview["churn"]
    assert churn["versions"]["champion"]["version"] == "1" and "previous" not in churn["versions"]
    assert churn["versions"]["champion"]["metrics"]["roc_auc"] > 0.6  # the run's test_roc_auc, by its plain name
    assert churn["champion_since"]["verdict"] == "rollback" and churn["champion_held_days"] >= 0
    assert not churn["can_roll_back"]  # the rollback consumed `previous`
    assert overview["fraud"]["versions"] == {} and overview["support_assistant"]["kind"] == "assistant"


def test_trends_carry_the_primary_metric_best_auc_and_drift_against_its_threshold(world: Settings) -> None:
    trend = records.trends(reports(world), "churn")
    days = [p["date"] for p in trend["points"]]
    assert days == [(DAY - timedelta(days=1)).isoformat(), DAY.isoformat()]
    last = trend["points"][-1]
    assert 0.5 < last["primary"] <= 1 and last["best_auc"] >= last["primary"] - 0.05
    assert last["drift"] is not None and last["drift_threshold"] == DRIFT_THRESHOLD
    svg = charts.tabular_trend_svg(trend)
    assert svg.startswith("<?xml") and "churn: roc_auc per training date" in svg and "threshold" in svg


def test_the_assistant_trend_draws_each_rate_with_its_interval(world: Settings) -> None:
    record = {
        "models": {"challenger": {"correctness": 0.42, "hallucination_rate": 0.11, "abstention_accuracy": 0.5}},
        "intervals": {"challenger": {"correctness": [0.34, 0.5], "hallucination_rate": [0.06, 0.17]}},
    }
    reports(world).write_json("llm_finetune", DAY, "evaluation", record)
    trend = records.trends(reports(world), "support_assistant")
    [point] = trend["points"]
    assert point["primary"] == 0.42 and point["hallucination_rate_interval"] == [0.06, 0.17]
    assert point["abstention_accuracy_interval"] is None
    assert "hallucination_rate 95% interval" in charts.assistant_trend_svg(trend)


def test_the_live_index_is_the_scheduled_refresh_not_the_backfill(world: Settings) -> None:
    index = records.live_index(reports(world))
    assert index["live"] == f"kb_{DAY:%Y%m%d}" and index["switched_on"] == DAY.isoformat()
    assert index["chunks"] > 0 and 0 <= index["hit_rate"] <= 1
    newest, backfill = index["refreshes"]
    assert backfill["recorded_only"] and not newest["recorded_only"]
    assert "hit rate@" in charts.index_svg(index)


def test_report_links_and_files_stay_inside_the_pipelines_date_folders(world: Settings) -> None:
    [day] = [d for d in records.report_links(reports(world)) if d["date"] == DAY.isoformat()]
    kinds = {(r["pipeline"], r["kind"]) for r in day["reports"]}
    assert {("churn_training", "validation"), ("model_monitoring", "drift")} <= kinds
    key = next(r["key"] for r in day["reports"] if r["kind"] == "validation")
    data, media = records.report_file(reports(world), key)
    assert media == "text/html" and b"values must never be null" in data
    for bad in ("../mlflow.db", "churn_training/../../x.json", "/etc/passwd", "_cache/answers/x.json"):
        with pytest.raises(KeyError):
            records.report_file(reports(world), bad)


def test_an_empty_reports_location_gives_empty_pages(tmp_path: Path) -> None:
    empty = Reports.at(str(tmp_path / "nothing"))
    assert records.decisions(empty) == [] and records.live_index(empty)["live"] is None
    assert records.trends(empty, "fraud")["points"] == [] and records.report_links(empty) == []
    assert "no training recorded yet" in charts.tabular_trend_svg(records.trends(empty, "fraud"))
    assert json.dumps(records.live_index(empty))


def test_reports_on_s3_are_listed_and_served_through_the_view(store_uri: str) -> None:
    """The same pages over the S3 protocol (moto's server): the bucket is read by the view, never linked."""
    reports = Reports.at(store_uri)
    reports.write_bytes("churn_training", DAY, "validation.html", b"<html>values must never be null</html>")
    reports.append_json("churn_training", DAY, "decision", "20261120T020000Z-try1", {"model": "churn"} | _DECISION)
    [day] = records.report_links(reports)
    [link] = day["reports"]
    assert link["key"] == f"churn_training/{DAY}/validation.html" and "s3://" not in json.dumps(day)
    assert records.report_file(reports, link["key"]) == (b"<html>values must never be null</html>", "text/html")
    [decision] = records.decisions(reports, "churn")
    assert decision["verdict"] == "promote" and decision["record_key"].startswith("churn_training/")


_DECISION = {
    "date": DAY.isoformat(),
    "run_type": "scheduled",
    "airflow_run_id": "scheduled__x",
    "verdict": "promote",
    "champion_before": None,
    "champion_after": "1",
    "gates": [],
    "reasons": ["first champion"],
    "recorded_at": "2026-11-20T02:00:00+00:00",
}
