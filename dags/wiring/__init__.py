"""Shared wiring for the DAG files: default task policy, the run's partition date, and lake assets.

Only cheap imports here: every DAG file imports this module at parse time.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from airflow.sdk import Asset

OWNER = "ml-platform"

# Every task retries with exponential backoff; a single flaky read must not cost a night.
DEFAULT_ARGS: dict[str, Any] = {
    "owner": OWNER,
    "retries": 2,
    "retry_delay": timedelta(seconds=30),
    "retry_exponential_backoff": 2.0,
    "max_retry_delay": timedelta(minutes=10),
    "execution_timeout": timedelta(minutes=30),
}


def lake_asset(table: str) -> Asset:
    """The Asset that a landed partition of `table` updates; consumers schedule on it."""
    return Asset(name=f"lake.{table}", uri=f"lake://{table}")


def partition_date(context: dict[str, Any]) -> str:
    """The run's partition date (YYYY-MM-DD).

    Runs triggered by an asset or without a logical date have none in the context: fall back to the
    moment the run was due, so every run still writes exactly one date.
    """
    dag_run = context["dag_run"]
    moment = context.get("logical_date") or dag_run.logical_date or dag_run.run_after
    return moment.date().isoformat()


def run_type(context: dict[str, Any]) -> str:
    """scheduled | manual | backfill | asset_triggered: backfills compute and record but never move aliases."""
    kind = context["dag_run"].run_type
    return str(getattr(kind, "value", kind)).lower()


def run_context(context: dict[str, Any]):
    """The package's RunContext for this Airflow run (imported lazily: this module is read at parse time)."""
    from ml_platform.run_context import RunContext

    dag_run = context["dag_run"]
    return RunContext(date.fromisoformat(partition_date(context)), run_type(context), dag_run.run_id, dag_run.dag_id)
