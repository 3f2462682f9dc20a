"""Nightly ingestion: land the date's churn, fraud and support partitions in the lake and announce them.

Each task is keyed by the run's partition date: a rerun or backfill of a date replaces exactly that
date's partitions. Downstream pipelines consume the emitted Assets (one per table, `lake://<table>`), whose
events carry the partition's date, rows and content hash. Groups, tables and sources: configs/pipelines/ingest.yaml.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import Param, dag
from wiring.assets import lake_asset
from wiring.policy import task_defaults
from wiring.steps import step

from ml_platform import names
from ml_platform.config.pipelines import load_ingest_config

CONFIG = load_ingest_config()


def landed(record: dict) -> list[tuple]:
    """Each landed partition's facts on its table's asset event."""
    return [
        (lake_asset(p["dataset"]), {"dt": record["date"], "rows": p["rows"], "content_hash": p["content_hash"]})
        for p in record["partitions"]
    ]


@dag(
    dag_id=names.INGEST,
    schedule=CONFIG.schedule,
    start_date=datetime.combine(CONFIG.start_date, datetime.min.time()),
    catchup=False,
    max_active_runs=4,
    default_args=task_defaults(),
    tags=["ingestion", "lake"],
    doc_md=__doc__,
    params={
        "source": Param(
            "config",
            enum=["config", "demo", "landing"],
            description="Where to read the day's data: as configured in ingest.yaml, the demo generators, "
            "or files at LANDING_URI/<table>/<date>.csv|parquet.",
        ),
        "replace_other_source": Param(
            False,
            type="boolean",
            description="Replace partitions of this date that came from another source (an import, a landed "
            "file, demo data). Off: such a partition is left as it is and the run fails naming it. The replaced "
            "rows are kept under the lake's _versions/ either way.",
        ),
    },
)
def ingest_daily():
    for group in CONFIG.groups.values():
        step(
            "ml_platform.pipelines.ingest.ingest_step",
            group.for_run,
            task_id=f"ingest_{group.name}",
            outlets=[lake_asset(t) for t in group.tables],
            announce=landed,
            keep=("date", "source", "rows"),
        )()


ingest_daily()
