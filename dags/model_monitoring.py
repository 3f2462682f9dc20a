"""Nightly monitoring, after ingestion and before training.

For each tabular champion: an Evidently report of the day against the champion's own training data
(per-feature drift with the test used, share drifted, drift of the champion's scores, target drift and live
quality). A drifted day (thresholds in the model's config) announces `drift://<model>`, which triggers that
model's training DAG at once; the training run's drift gate then asks the challenger to beat the champion
on the current data. Backfill runs record verdicts (for the drift timeline) but trigger nothing.
For the support assistant: hallucination rate, latency, tokens and cost of the champion on a sample of the
day's chat questions, and embedding drift of those questions against its evaluation questions.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import dag
from wiring.assets import drift_asset, lake_asset
from wiring.policy import task_defaults
from wiring.sensors import partition_sensor
from wiring.steps import announce_when, step

from ml_platform import names
from ml_platform.config.assistant import load_assistant_config
from ml_platform.config.pipelines import load_monitoring_config
from ml_platform.config.tabular import load_model_config, model_names

CONFIG = load_monitoring_config()
ASSISTANT = load_assistant_config()
STEPS = "ml_platform.pipelines.monitoring"
DRIFT_FIELDS = ("model", "day", "verdict", "share_drifted", "drifted_features", "html_report", "retrain")


def drift_event(record: dict) -> dict:
    keys = {
        "dt": "day",
        "share_drifted": "share_drifted",
        "drifted_features": "drifted_features",
        "report": "html_report",
    }
    return {key: record[field] for key, field in keys.items()}


@dag(
    dag_id=names.MONITORING,
    schedule=CONFIG.schedule,
    start_date=datetime.combine(CONFIG.start_date, datetime.min.time()),
    catchup=False,
    max_active_runs=2,
    default_args=task_defaults(),
    tags=["monitoring", "drift", "llmops"],
    doc_md=__doc__,
)
def model_monitoring():
    for name in model_names():
        config = load_model_config(name)
        drift = step(
            f"{STEPS}.tabular_monitor_step",
            config.for_run,
            task_id=f"drift_{name}",
            inlets=[lake_asset(config.dataset)],
            keep=DRIFT_FIELDS,
        )()
        partition_sensor(config.dataset, f"wait_for_{config.dataset}") >> drift
        announce_when("retrain", drift_asset(name), drift_event, task_id=f"trigger_retraining_{name}")(drift)

    assistant = step(
        f"{STEPS}.assistant_monitor_step", ASSISTANT.for_run, task_id="monitor_assistant", pool="llm_training"
    )()
    partition_sensor(ASSISTANT.tables.chats, f"wait_for_{ASSISTANT.tables.chats}") >> assistant


model_monitoring()
