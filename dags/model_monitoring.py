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

from airflow.sdk import dag, task
from wiring import DEFAULT_ARGS, drift_asset, lake_asset, partition_sensor, run_context, run_type

from ml_platform.tabular.config import load_model_config, model_names


@dag(
    dag_id="model_monitoring",
    schedule="15 2 * * *",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=2,
    default_args=DEFAULT_ARGS,
    tags=["monitoring", "drift", "llmops"],
    doc_md=__doc__,
)
def model_monitoring():
    def monitor(name: str):
        config = load_model_config(name)

        @task(task_id=f"drift_{name}", inlets=[lake_asset(config.dataset)])
        def drift(**context) -> dict:
            from ml_platform.monitoring.pipeline import tabular_monitor_step
            from ml_platform.settings import Settings

            record = tabular_monitor_step(config, Settings.from_env(), run_context(context))
            return {
                k: record.get(k)
                for k in ("model", "day", "verdict", "share_drifted", "drifted_features", "html_report")
            }

        @task.short_circuit(task_id=f"retrain_needed_{name}")
        def retrain_needed(result: dict, **context) -> bool:
            if result["verdict"] != "drifted":
                return False
            if run_type(context) == "backfill":
                print(f"{name} drifted on {result['day']}: recorded only (backfill runs trigger no retraining)")
                return False
            return True

        @task(task_id=f"trigger_retraining_{name}", outlets=[drift_asset(name)])
        def trigger_retraining(result: dict, **context) -> None:
            context["outlet_events"][drift_asset(name)].extra = {
                "dt": result["day"],
                "share_drifted": result["share_drifted"],
                "drifted_features": result["drifted_features"],
                "report": result["html_report"],
            }
            print(f"{name} drifted on {result['day']}: retraining triggered ({result['html_report']})")

        result = drift()
        partition_sensor(config.dataset, f"wait_for_{config.dataset}") >> result
        retrain_needed(result) >> trigger_retraining(result)

    for model_name in model_names():
        monitor(model_name)

    @task(task_id="monitor_assistant", pool="llm_training")
    def monitor_assistant(**context) -> dict:
        from ml_platform.llm.config import load_assistant_config
        from ml_platform.monitoring.llm import assistant_monitor_step
        from ml_platform.settings import Settings

        return assistant_monitor_step(load_assistant_config(), Settings.from_env(), run_context(context))

    partition_sensor("support_chats", "wait_for_support_chats") >> monitor_assistant()


model_monitoring()
