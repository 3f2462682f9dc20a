"""One alert path for every DAG: a log line always, and a JSON POST to a webhook when one is configured.

The payload names the DAG, task, model, date, the failed gate and the report's location, all read from the
typed failure (`ml_platform.errors`), so whoever is paged knows where to look before opening Airflow.
"""

from __future__ import annotations

import logging
import os
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit

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


def _shown(url: str) -> str:
    """A webhook URL as logs may show it: scheme and host only (the path often is the secret token)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or '?'}/..."


def send_alert(alert: Alert, webhook_url: str | None, timeout: float = 5.0) -> bool:
    """Log always; POST when a webhook is set. Returns whether the webhook accepted it (never raises: a
    broken pager must not hide the original failure). Only http(s) webhooks are used, and a webhook URL is
    never logged beyond its host."""
    import httpx

    log.error(
        "ALERT %s | gate=%s | report=%s | %s",
        alert.title,
        alert.failed_gate,
        alert.report_url,
        alert.message.splitlines()[0] if alert.message else "",
    )
    if not webhook_url:
        return False
    if urlsplit(webhook_url).scheme not in ("http", "https"):
        log.error("alert webhook %s refused: only http(s) webhooks are used", _shown(webhook_url))
        return False
    try:
        response = httpx.post(webhook_url, json=alert.as_dict(), timeout=timeout)
    except Exception as error:  # any failure to deliver is reported, never raised over the original failure
        log.error("alert webhook %s unreachable: %s", _shown(webhook_url), type(error).__name__)
        return False
    if not response.is_success:
        log.error("alert webhook %s answered %s", _shown(webhook_url), response.status_code)
    return response.is_success
