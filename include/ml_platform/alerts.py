"""One alert path for every DAG: a log line always, and a JSON POST to a webhook when one is configured.

The payload names the DAG, task, model, date, the failed gate and the report's location, all read from the
typed failure (`ml_platform.errors`), so whoever is paged knows where to look before opening Airflow.
"""

from __future__ import annotations

import json
import logging
import os
import urllib.request
from dataclasses import asdict, dataclass
from typing import Any

from ml_platform.errors import PlatformError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Alert:
    title: str
    dag_id: str
    task_id: str
    run_id: str
    date: str
    model: str | None
    failed_gate: str
    retryable: bool | None
    message: str
    report_url: str | None
    log_url: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def failure_alert(
    *,
    dag_id: str,
    task_id: str,
    run_id: str,
    day: str,
    error: BaseException | None,
    records_url: str,
    model: str | None = None,
    log_url: str | None = None,
) -> Alert:
    """The alert for a failed task: gate, retryability and report come from the failure's own fields; an
    error the platform did not raise on purpose is a `task_error` pointing at the run's records folder (the
    monitoring tasks also pass failures they report without raising, such as a broken production budget)."""
    gate = getattr(error, "gate", PlatformError.gate)
    return Alert(
        title=f"{dag_id}.{task_id} failed for {day}" + (f" ({model}: {gate})" if model else f" ({gate})"),
        dag_id=dag_id,
        task_id=task_id,
        run_id=run_id,
        date=day,
        model=model,
        failed_gate=gate,
        retryable=getattr(error, "retryable", None),
        message=(str(error) if error is not None else "task failed")[:2000],
        report_url=getattr(error, "report_url", None) or records_url,
        log_url=log_url,
    )


def configured_webhook() -> str | None:
    """ALERT_WEBHOOK_URL, the one setting every alert path reads first."""
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
