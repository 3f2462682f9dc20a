"""Nightly ingestion: land the date's churn, fraud and support partitions in the lake and announce them.

Each task is keyed by the run's partition date: a rerun or backfill of a date replaces exactly that
date's partitions. Downstream pipelines consume the emitted Assets.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import Param, dag, task
from wiring import DEFAULT_ARGS, lake_asset, partition_date

from ml_platform.catalog import GROUP_TABLES, load_ingest_config

CONFIG = load_ingest_config()


@dag(
    dag_id="ingest_daily",
    schedule=CONFIG.schedule,
    start_date=datetime.combine(CONFIG.start_date, datetime.min.time()),
    catchup=False,
    max_active_runs=4,
    default_args=DEFAULT_ARGS,
    tags=["ingestion", "lake"],
    doc_md=__doc__,
    params={
        "source": Param(
            "config",
            enum=["config", "demo", "landing"],
            description="Where to read the day's data: as configured in ingest.yaml, the demo generators, "
            "or files at LANDING_URI/<table>/<date>.csv|parquet.",
        ),
    },
)
def ingest_daily():
    def make_task(group: str, tables: tuple[str, ...]):
        @task(task_id=f"ingest_{group}", outlets=[lake_asset(t) for t in tables])
        def ingest(**context) -> dict:
            from ml_platform.ingest import ingest_group
            from ml_platform.settings import Settings

            source = context["params"]["source"]
            day = partition_date(context)
            record = ingest_group(group, day, Settings.from_env(), None if source == "config" else source)
            for partition in record["partitions"]:
                context["outlet_events"][lake_asset(partition["dataset"])].extra = {
                    "dt": day,
                    "rows": partition["rows"],
                    "content_hash": partition["content_hash"],
                }
            return {p["dataset"]: p["rows"] for p in record["partitions"]}

        return ingest()

    for group, tables in GROUP_TABLES.items():
        make_task(group, tables)


ingest_daily()
