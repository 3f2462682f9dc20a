"""Alerts: the failed gate, retryability and report read from the typed failure's fields, and delivery to a
real HTTP receiver on loopback."""

from __future__ import annotations

import pytest

from ml_platform.alerts import failure_alert, send_alert
from ml_platform.errors import (
    IndexCheckFailed,
    NotEnoughHistory,
    PartitionMissing,
    PlatformError,
    ValidationFailed,
)
from tests.helpers import Receiver, free_port


def alert_for(error: BaseException | None, dag_id: str = "churn_training", model: str | None = "churn"):
    return failure_alert(
        dag_id=dag_id,
        task_id="validate",
        run_id="scheduled__2026-11-21",
        day="2026-11-21",
        error=error,
        records_url=f"/srv/reports/{dag_id}/2026-11-21/",
        model=model,
    )


@pytest.fixture
def receiver():
    hook = Receiver()
    yield hook
    hook.close()


@pytest.mark.parametrize(
    ("error", "gate", "retryable"),
    [
        (ValidationFailed("churn partition dt=2026-11-21 failed 1 of 46 expectations"), "validation", False),
        (PartitionMissing("churn/dt=2026-11-21 has not landed"), "partition_missing", True),
        (
            PartitionMissing("churn/dt=2026-11-21 has not landed after 6:00:00", retryable=False),
            "partition_missing",
            False,
        ),
        (NotEnoughHistory("1 landed day(s); at least 3 are needed"), "training_history", False),
        (IndexCheckFailed("index kb_20261130 not made live"), "index_check", False),
        (ZeroDivisionError("division by zero"), "task_error", None),
    ],
)
def test_gate_and_retryability_come_from_the_failure_not_its_text(error, gate: str, retryable) -> None:
    alert = alert_for(error)
    assert (alert.failed_gate, alert.retryable) == (gate, retryable)


def test_a_message_that_mentions_a_gate_does_not_make_it_that_gate() -> None:
    assert alert_for(RuntimeError("validation failed: hit rate below floor, drift")).failed_gate == "task_error"
    assert alert_for(PlatformError("whatever the text says")).failed_gate == "task_error"


def test_alert_names_model_date_gate_and_report(receiver: Receiver) -> None:
    error = ValidationFailed("failed 1 of 46 expectations", report_url="/srv/reports/churn_training/2026-11-21/v.html")
    alert = alert_for(error)
    assert send_alert(alert, receiver.url)
    [payload] = receiver.received
    assert payload["model"] == "churn" and payload["date"] == "2026-11-21"
    assert payload["failed_gate"] == "validation" and payload["retryable"] is False
    assert payload["report_url"] == "/srv/reports/churn_training/2026-11-21/v.html"
    assert payload["title"] == "churn_training.validate failed for 2026-11-21 (churn: validation)"


def test_without_a_report_of_its_own_the_alert_points_at_the_runs_records() -> None:
    assert (
        alert_for(KeyError("x"), dag_id="ingest_daily", model=None).report_url
        == "/srv/reports/ingest_daily/2026-11-21/"
    )


def test_no_webhook_still_logs_and_an_unreachable_one_never_raises(caplog) -> None:
    alert = alert_for(RuntimeError("boom"), dag_id="ingest_daily", model=None)
    assert not send_alert(alert, None)
    assert "ALERT ingest_daily.validate failed for 2026-11-21" in caplog.text
    assert not send_alert(alert, f"http://127.0.0.1:{free_port()}/nothing-listens", timeout=1)
    assert "unreachable" in caplog.text


def test_a_webhook_error_status_is_reported_as_not_delivered() -> None:
    hook = Receiver(status=500)
    try:
        assert not send_alert(alert_for(RuntimeError("x"), "llm_finetune", "support_assistant"), hook.url)
        assert hook.received[0]["model"] == "support_assistant"
    finally:
        hook.close()


def test_a_webhook_url_is_never_logged_beyond_its_host(caplog) -> None:
    secret = f"http://127.0.0.1:{free_port()}/services/T000/B000/s3cr3t-token"
    assert not send_alert(alert_for(RuntimeError("x")), secret, timeout=1)
    assert "s3cr3t-token" not in caplog.text and "http://127.0.0.1/..." in caplog.text


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/hook", "not a url at all"])
def test_only_http_webhooks_are_used_and_a_bad_one_never_raises(url: str, caplog) -> None:
    assert not send_alert(alert_for(RuntimeError("x")), url, timeout=1)
    assert "refused" in caplog.text
