"""Nightly knowledge-base index refresh for the support assistant (blue/green).

Chunk the day's help-centre articles, screen them (PII redacted, planted instructions blocked), embed only
new or changed chunks (all-MiniLM-L6-v2), delete stale ones, build the next index aside, check its retrieval
hit rate on the labelled questions, and only then make it live. A failed check leaves the live index alone.
Vector store: LanceDB at VECTOR_STORE_URI by default; Weaviate when VECTOR_STORE_URI=weaviate://host:port.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import Asset, dag, task
from wiring import DEFAULT_ARGS, lake_asset, partition_sensor, run_context

from ml_platform.llm.config import load_assistant_config

CONFIG = load_assistant_config()
LIVE_INDEX = Asset(name="vectors.support_kb", uri="vectors://support_kb")


@dag(
    dag_id="kb_embedding_refresh",
    schedule=CONFIG.schedules["kb_embedding_refresh"],
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["llmops", "retrieval", "support-assistant"],
    doc_md=__doc__,
)
def kb_embedding_refresh():
    @task(pool="embedding", inlets=[lake_asset("support_kb")], outlets=[LIVE_INDEX])
    def refresh(**context) -> dict:
        from airflow.sdk.exceptions import AirflowFailException

        from ml_platform.llm.pipeline import IndexCheckFailed, refresh_step
        from ml_platform.settings import Settings

        try:
            record = refresh_step(CONFIG, Settings.from_env(), run_context(context))
        except IndexCheckFailed as failed:
            # The same articles give the same index: retrying cannot pass the check.
            raise AirflowFailException(str(failed)) from failed
        context["outlet_events"][LIVE_INDEX].extra = {"index": record["live_after"], "hit_rate": record["hit_rate"]}
        return {k: record[k] for k in ("live_after", "embedded", "deleted", "hit_rate")}

    partition_sensor("support_kb") >> refresh()


kb_embedding_refresh()
