"""Sensors: wait for a partition of the run's date, freeing the worker slot between checks."""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import task

from wiring.connections import apply_connections
from wiring.context import run_context

# How long a run waits for its partition before it fails naming what is missing.
PATIENCE = timedelta(hours=6)


def partition_sensor(table: str, task_id: str | None = None):
    """A sensor task (reschedule mode) for `table`'s partition of the run's date; after PATIENCE it fails with
    the missing partition's name (the lake's PartitionMissing)."""

    @task.sensor(
        task_id=task_id or "wait_for_partition",
        poke_interval=120,
        mode="reschedule",
        timeout=PATIENCE + timedelta(minutes=10),
    )
    def wait_for_partition(**context) -> bool:
        from datetime import datetime

        from ml_platform.lake import Lake
        from ml_platform.settings import Settings

        apply_connections()
        day, lake = run_context(context).day, Lake.at(Settings.from_env().lake_uri)
        started = context["dag_run"].start_date
        waited = datetime.now(started.tzinfo) - started if started else timedelta(0)
        if lake.landed(table, day, waited, PATIENCE):
            return True
        print(f"waiting for {table}/dt={day} in {lake.store.uri} (waited {waited})")
        return False

    return wait_for_partition()
