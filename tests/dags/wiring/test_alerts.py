"""The failure callback: the alert reads the typed failure and points at the DAG's records folder."""

from __future__ import annotations

from wiring.alerts import alert_on_failure, build_alert

from ml_platform.errors import IndexCheckFailed
from tests.dags.wiring.fakes import FakeRun, context


def test_an_untyped_failure_points_at_the_dags_records_folder_of_the_date(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("REPORTS_URI", str(tmp_path / "reports"))
    alert = build_alert(context(FakeRun(dag_id="ingest_daily"), exception=KeyError("boom")), None)
    assert alert.report_url == (tmp_path / "reports" / "ingest_daily" / "2026-11-21").as_uri() + "/"
    assert (alert.failed_gate, alert.retryable, alert.model) == ("task_error", None, None)


def test_a_typed_failure_brings_its_own_report_and_gate(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("REPORTS_URI", str(tmp_path / "reports"))
    error = IndexCheckFailed("hit rate 0.5 < 0.8", report_url="file:///r/refresh.json")
    alert = build_alert(context(FakeRun(dag_id="kb_embedding_refresh"), exception=error), "support_assistant")
    assert (alert.failed_gate, alert.retryable, alert.report_url) == ("index_check", False, "file:///r/refresh.json")
    assert alert.model == "support_assistant"


def test_a_rollback_alert_names_the_model_from_the_form(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("REPORTS_URI", str(tmp_path / "reports"))
    ctx = context(FakeRun(dag_id="model_rollback"), params={"model": "fraud"}, exception=RuntimeError("x"))
    assert build_alert(ctx, None).model == "fraud"


def test_the_callback_sends_the_alert(monkeypatch, tmp_path) -> None:
    sent = []
    monkeypatch.setenv("REPORTS_URI", str(tmp_path / "reports"))
    monkeypatch.setattr("ml_platform.alerts.send_alert", lambda alert, url: sent.append((alert, url)))
    monkeypatch.setenv("ALERT_WEBHOOK_URL", "http://127.0.0.1:9/hook")
    alert_on_failure("churn")(context(exception=RuntimeError("x")))
    [(alert, url)] = sent
    assert alert.model == "churn" and url == "http://127.0.0.1:9/hook"
