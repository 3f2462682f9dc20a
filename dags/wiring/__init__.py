"""Shared wiring for the DAG files: default task policy, the run's partition date, and lake assets.

Only cheap imports here: every DAG file imports this module at parse time.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from airflow.sdk import Asset, task

OWNER = "ml-platform"

WAIT_FOR_PARTITION = timedelta(hours=6)


def alert_on_failure(context: dict[str, Any]) -> None:
    """Every DAG's failure path: log, and POST to ALERT_WEBHOOK_URL (or the alert_webhook_url Variable)."""
    from ml_platform.alerts import build_alert, configured_webhook, send_alert
    from ml_platform.settings import Settings

    ti, dag_run = context["task_instance"], context["dag_run"]
    webhook = configured_webhook()
    if not webhook:
        try:
            from airflow.sdk import Variable

            webhook = Variable.get("alert_webhook_url", default=None)
        except Exception:  # the alert must go out even when the Variable store is unreachable
            webhook = None
    alert = build_alert(
        dag_run.dag_id,
        ti.task_id,
        dag_run.run_id,
        partition_date(context),
        str(context.get("exception") or "task failed"),
        Settings.from_env().reports_uri,
        getattr(ti, "log_url", None),
    )
    send_alert(alert, webhook)


# Every task retries with exponential backoff; a single flaky read must not cost a night.
DEFAULT_ARGS: dict[str, Any] = {
    "owner": OWNER,
    "retries": 2,
    "retry_delay": timedelta(seconds=30),
    "retry_exponential_backoff": 2.0,
    "max_retry_delay": timedelta(minutes=10),
    "execution_timeout": timedelta(minutes=30),
    "on_failure_callback": alert_on_failure,
}


def lake_asset(table: str) -> Asset:
    """The Asset that a landed partition of `table` updates; consumers schedule on it."""
    return Asset(name=f"lake.{table}", uri=f"lake://{table}")


def partition_date(context: dict[str, Any]) -> str:
    """The run's partition date (YYYY-MM-DD).

    Scheduled and backfill runs: their logical date. Runs triggered by an asset (a drift verdict, say): the
    date the triggering event names. Otherwise the moment the run was due, so every run writes one date.
    """
    dag_run = context["dag_run"]
    moment = context.get("logical_date") or dag_run.logical_date
    if moment is not None:
        return moment.date().isoformat()
    for events in (context.get("triggering_asset_events") or {}).values():
        for event in events:
            if (event.extra or {}).get("dt"):
                return str(event.extra["dt"])[:10]
    return dag_run.run_after.date().isoformat()


def drift_asset(model: str) -> Asset:
    """Updated by model_monitoring when a model's data drifted; the model's training DAG listens to it."""
    return Asset(name=f"drift.{model}", uri=f"drift://{model}")


def run_type(context: dict[str, Any]) -> str:
    """scheduled | manual | backfill | asset_triggered: backfills compute and record but never move aliases."""
    kind = context["dag_run"].run_type
    return str(getattr(kind, "value", kind)).lower()


def run_context(context: dict[str, Any]):
    """The package's RunContext for this Airflow run (imported lazily: this module is read at parse time)."""
    from ml_platform.run_context import RunContext

    dag_run = context["dag_run"]
    return RunContext(date.fromisoformat(partition_date(context)), run_type(context), dag_run.run_id, dag_run.dag_id)


def partition_sensor(table: str, task_id: str | None = None):
    """A sensor task that waits (in reschedule mode, freeing its worker slot) for `table`'s partition of the
    run's date, and fails with the missing partition's name once WAIT_FOR_PARTITION has passed."""

    @task.sensor(
        task_id=task_id or "wait_for_partition",
        poke_interval=120,
        mode="reschedule",
        timeout=WAIT_FOR_PARTITION + timedelta(minutes=10),
    )
    def wait_for_partition(**context) -> bool:
        from datetime import datetime

        from airflow.sdk.exceptions import AirflowFailException

        from ml_platform.lake import Lake
        from ml_platform.settings import Settings

        day, lake = partition_date(context), Lake.at(Settings.from_env().lake_uri)
        if lake.exists(table, day):
            return True
        started = context["dag_run"].start_date
        waited = datetime.now(started.tzinfo) - started if started else timedelta(0)
        if waited > WAIT_FOR_PARTITION:
            raise AirflowFailException(
                f"{table}/dt={day} has not landed in {lake.store.uri} after {waited}: did ingest_daily run for "
                f"{day}? Check its run, or land the partition and clear this task."
            )
        print(f"waiting for {table}/dt={day} in {lake.store.uri} (waited {waited})")
        return False

    return wait_for_partition()


def force_promote_params() -> dict[str, Any]:
    """The two form fields every promoting DAG offers; `force_reason` below enforces them."""
    from airflow.sdk import Param

    return {
        "force_promote": Param(
            False, type="boolean", description="Promote the new model even if a gate fails (manual runs only)."
        ),
        "force_reason": Param(
            "", type="string", maxLength=500, description="Required with force_promote: why, in words; it is recorded."
        ),
    }


def force_reason(params: dict[str, Any]) -> str | None:
    """The written reason of a manual force-promote, or None; refuses a force without a real reason."""
    if not params.get("force_promote"):
        return None
    reason = (params.get("force_reason") or "").strip()
    if len(reason) < 10:
        from airflow.sdk.exceptions import AirflowFailException

        raise AirflowFailException("force_promote needs a force_reason of at least 10 characters")
    return reason
