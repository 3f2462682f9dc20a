"""Nightly knowledge-base index refresh for the support assistant (blue/green).

Chunk the day's help-centre articles, screen them (PII redacted, planted instructions blocked), embed only
new or changed chunks (all-MiniLM-L6-v2), delete stale ones, build the next index aside, check its retrieval
hit rate on the labelled questions, and only then make it live. A failed check leaves the live index alone.
Vector store: LanceDB at VECTOR_STORE_URI by default; Weaviate when VECTOR_STORE_URI=weaviate://host:port.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import dag
from wiring.assets import lake_asset, live_index_asset
from wiring.policy import task_defaults
from wiring.sensors import partition_sensor
from wiring.steps import announce_when, step

from ml_platform import names
from ml_platform.config.assistant import load_assistant_config

CONFIG = load_assistant_config()


def live_index_event(record: dict) -> dict:
    return {"index": record["live_after"], "hit_rate": record["hit_rate"]}


@dag(
    dag_id=names.KB_REFRESH,
    schedule=CONFIG.schedules.kb_embedding_refresh,
    start_date=datetime.combine(CONFIG.start_date, datetime.min.time()),
    catchup=False,
    max_active_runs=1,
    default_args=task_defaults(CONFIG.name),
    tags=["llmops", "retrieval", "support-assistant"],
    doc_md=__doc__,
)
def kb_embedding_refresh():
    refresh = step(
        "ml_platform.pipelines.retrieval.refresh_step",
        CONFIG.for_run,
        pool="embedding",
        inlets=[lake_asset(CONFIG.tables.kb)],
        keep=("day", "live_after", "embedded", "deleted", "hit_rate", "promoted"),
    )()
    partition_sensor(CONFIG.tables.kb) >> refresh
    # Only a run whose index is live announces it: a backfill's or an older day's index is recorded, not live.
    announce_when("promoted", live_index_asset(CONFIG.tables.kb), live_index_event, task_id="announce_live_index")(
        refresh
    )


kb_embedding_refresh()
