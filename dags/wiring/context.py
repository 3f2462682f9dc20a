"""The run's partition date and the package's RunContext, from Airflow's task context."""

from __future__ import annotations

from typing import Any


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


def run_type(context: dict[str, Any]) -> str:
    """scheduled | manual | backfill | asset_triggered: backfills compute and record but never move production state."""
    kind = context["dag_run"].run_type
    return str(getattr(kind, "value", kind)).lower()


def run_context(context: dict[str, Any]):
    """The package's RunContext for this Airflow run (imported lazily: this module is read at parse time)."""
    from datetime import date

    from ml_platform.run_context import RunContext

    dag_run = context["dag_run"]
    return RunContext(
        day=date.fromisoformat(partition_date(context)),
        run_type=run_type(context),
        airflow_run_id=dag_run.run_id,
        dag_id=dag_run.dag_id,
        task_id=context["task_instance"].task_id if "task_instance" in context else "",
        params=dict(context.get("params") or {}),
        try_number=int(getattr(context.get("task_instance"), "try_number", None) or 1),
    )
