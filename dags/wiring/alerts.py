"""Every task's failure path: a log line, and a POST to ALERT_WEBHOOK_URL (or the alert_webhook_url Variable).

The alert reads the typed failure's own fields (gate, retryable, report); a failure the platform did not
raise on purpose points at the folder where the DAG writes its records for that date.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import BaseNotifier

from wiring.context import partition_date


def webhook_url() -> str | None:
    from ml_platform.alerts import configured_webhook

    configured = configured_webhook()
    if configured:
        return configured
    try:
        from airflow.sdk import Variable

        return Variable.get("alert_webhook_url", default=None)
    except Exception:  # the alert must go out even when the Variable store is unreachable
        return None


def build_alert(context: dict[str, Any], model: str | None):
    from ml_platform.alerts import failure_alert
    from ml_platform.reports import Reports
    from ml_platform.settings import Settings

    ti, dag_run = context["task_instance"], context["dag_run"]
    day = partition_date(context)
    return failure_alert(
        dag_id=dag_run.dag_id,
        task_id=ti.task_id,
        run_id=dag_run.run_id,
        day=day,
        error=context.get("exception"),
        # A pipeline's records folder is named after its DAG (ml_platform.names).
        records_url=Reports.at(Settings.from_env().reports_uri).folder_url(dag_run.dag_id, day),
        model=model or (context.get("params") or {}).get("model"),
        log_url=getattr(ti, "log_url", None),
    )


class PlatformAlert(BaseNotifier):
    """The on_failure_callback of every task (Airflow's notifier mechanism): one alert per failed task."""

    def __init__(self, model: str | None = None):
        super().__init__()
        self.model = model  # the model the DAG serves, named in its alerts

    def notify(self, context: dict[str, Any]) -> None:
        from ml_platform.alerts import send_alert

        send_alert(build_alert(context, self.model), webhook_url())


def alert_on_failure(model: str | None = None) -> PlatformAlert:
    return PlatformAlert(model)
