"""Alerts: the failed gate read from the error, and delivery to a real HTTP receiver on loopback."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from ml_platform.alerts import build_alert, failed_gate, send_alert
from tests.helpers import free_port


class Receiver:
    """A local webhook endpoint recording what it was sent."""

    def __init__(self, status: int = 200):
        self.received: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                outer.received.append(json.loads(self.rfile.read(length)))
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def receiver():
    hook = Receiver()
    yield hook
    hook.close()


@pytest.mark.parametrize(
    ("error", "gate"),
    [
        ("churn partition dt=2026-11-21 failed 1 of 46 expectations:\n - expect_column...", "validation"),
        ("churn/dt=2026-11-21 has not landed in /lake after 6:00:00", "partition_missing"),
        ("churn: 1 landed day(s) of churn between ...; at least 3 are needed to train", "training_history"),
        ("index kb_20261130 not made live: hit rate@3 0.5 < floor 0.8", "index_check"),
        ("ZeroDivisionError: division by zero", "task_error"),
    ],
)
def test_failed_gate_is_named_from_the_error(error: str, gate: str) -> None:
    assert failed_gate(error) == gate


def test_alert_names_model_date_gate_and_report(receiver: Receiver) -> None:
    alert = build_alert(
        "churn_training",
        "validate",
        "scheduled__2026-11-21",
        "2026-11-21",
        "churn partition dt=2026-11-21 failed 1 of 46 expectations",
        "/srv/reports",
    )
    assert send_alert(alert, receiver.url)
    [payload] = receiver.received
    assert payload["model"] == "churn" and payload["date"] == "2026-11-21"
    assert payload["failed_gate"] == "validation"
    assert payload["report_url"] == "/srv/reports/churn_training/2026-11-21/"
    assert payload["title"] == "churn_training.validate failed for 2026-11-21 (churn: validation)"


def test_no_webhook_still_logs_and_an_unreachable_one_never_raises(caplog) -> None:
    alert = build_alert("ingest_daily", "ingest_churn", "r", "2026-11-21", "boom", "/r")
    assert not send_alert(alert, None)
    assert "ALERT ingest_daily.ingest_churn failed for 2026-11-21" in caplog.text
    assert not send_alert(alert, f"http://127.0.0.1:{free_port()}/nothing-listens", timeout=1)
    assert "unreachable" in caplog.text


def test_a_webhook_error_status_is_reported_as_not_delivered() -> None:
    hook = Receiver(status=500)
    try:
        assert not send_alert(build_alert("llm_finetune", "decide", "r", "d", "x", "/r"), hook.url)
        assert hook.received[0]["model"] == "support_assistant"
    finally:
        hook.close()
