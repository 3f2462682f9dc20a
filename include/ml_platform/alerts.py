"""One alert path for every DAG: a log line always, and a JSON POST to a webhook when one is configured.

The payload names the DAG, task, model, date, the failed gate (validation, training history, index check,
drift, ...) and a link to the report, so whoever is paged knows where to look before opening Airflow.
"""

from __future__ import annotations

import json
import logging
import re
import urllib.request
from dataclasses import asdict, dataclass
from typing import Any

log = logging.getLogger(__name__)

# The first pattern found in the failure text names the gate that stopped the run.
GATES = (
    ("validation", re.compile(r"failed \d+ of \d+ expectations|validation failed", re.I)),
    ("partition_missing", re.compile(r"has not landed|no landing file", re.I)),
    ("training_history", re.compile(r"landed day\(s\).*needed to train", re.I)),
    ("index_check", re.compile(r"not made live|hit rate", re.I)),
    ("drift", re.compile(r"drift", re.I)),
    ("llm_budget", re.compile(r"hallucination|latency budget", re.I)),
)


@dataclass(frozen=True)
class Alert:
    title: str
    dag_id: str
    task_id: str
    run_id: str
    date: str
    model: str | None
    failed_gate: str
    message: str
    report_url: str | None
    log_url: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def failed_gate(text: str) -> str:
    return next((gate for gate, pattern in GATES if pattern.search(text)), "task_error")


def model_of(dag_id: str) -> str | None:
    for suffix in ("_training", "_finetune"):
        if dag_id.endswith(suffix):
            return "support_assistant" if dag_id == "llm_finetune" else dag_id.removesuffix(suffix)
    return None


def build_alert(
    dag_id: str, task_id: str, run_id: str, day: str, error: str, reports_uri: str, log_url: str | None = None
) -> Alert:
    gate = failed_gate(error)
    model = model_of(dag_id)
    pipeline = "llm_finetune" if dag_id == "llm_finetune" else dag_id
    return Alert(
        title=f"{dag_id}.{task_id} failed for {day}" + (f" ({model}: {gate})" if model else f" ({gate})"),
        dag_id=dag_id,
        task_id=task_id,
        run_id=run_id,
        date=day,
        model=model,
        failed_gate=gate,
        message=error[:2000],
        report_url=f"{reports_uri.rstrip('/')}/{pipeline}/{day}/",
        log_url=log_url,
    )


def configured_webhook() -> str | None:
    """ALERT_WEBHOOK_URL, the one setting every alert path reads first."""
    import os

    return os.environ.get("ALERT_WEBHOOK_URL") or None


def send_alert(alert: Alert, webhook_url: str | None, timeout: float = 5.0) -> bool:
    """Log always; POST when a webhook is set. Returns whether the webhook accepted it (never raises:
    a broken pager must not hide the original failure)."""
    log.error(
        "ALERT %s | gate=%s | report=%s | %s",
        alert.title,
        alert.failed_gate,
        alert.report_url,
        alert.message.splitlines()[0] if alert.message else "",
    )
    if not webhook_url:
        return False
    request = urllib.request.Request(
        webhook_url,
        data=json.dumps(alert.as_dict()).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return 200 <= response.status < 300
    except OSError as error:
        log.error("alert webhook %s unreachable: %s", webhook_url, error)
        return False
