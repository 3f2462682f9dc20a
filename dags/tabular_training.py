"""Tabular model training: one factory, one DAG per model config (`churn_training`, `fraud_training`, ...).

wait for the day's partition -> validate it (Great Expectations; a failure quarantines it and stops the run)
-> train XGBoost on the days before and evaluate on the day (MLflow run, registered version)
-> decide promotion against the champion on the same day (aliases champion / challenger / previous).
Scheduled nightly, and at once when model_monitoring finds the model's data drifted.
Backfill runs train, evaluate and record, but never move an alias.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import AssetOrTimeSchedule, CronTriggerTimetable, dag
from wiring import forms
from wiring.assets import drift_asset, lake_asset
from wiring.policy import task_defaults
from wiring.sensors import partition_sensor
from wiring.steps import ALIAS_MOVES, DECISION_FIELDS, step

from ml_platform.config.tabular import ModelConfig, load_model_config, load_training_pipeline, model_names

PIPELINE = load_training_pipeline()
STEPS = "ml_platform.pipelines.tabular"


def form(config: ModelConfig) -> dict:
    fields = PIPELINE.form
    return {
        "train_days": forms.bounded(fields.train_days, description=f"Default {config.window.train_days}."),
        "sample_rows_per_day": forms.bounded(fields.sample_rows_per_day),
        "hyperparameters": forms.hyperparameters(fields.hyperparameters, config.model.hyperparameters),
        **forms.force_promote(),
    }


def build(config: ModelConfig):
    @dag(
        dag_id=config.pipeline,
        schedule=AssetOrTimeSchedule(
            timetable=CronTriggerTimetable(config.schedule, timezone="UTC"), assets=drift_asset(config.name)
        ),
        start_date=datetime.combine(PIPELINE.start_date, datetime.min.time()),
        catchup=False,
        max_active_runs=1,
        default_args=task_defaults(config.name),
        tags=["mlops", "tabular", config.name],
        doc_md=f"### {config.registered_model}\n\n{config.description}\n\n{__doc__}",
        params=form(config),
    )
    def training():
        validation = step(f"{STEPS}.validate_step", config.for_run, inlets=[lake_asset(config.dataset)])()
        trained = step(
            f"{STEPS}.train_step", config.for_run, pool="model_training", execution_timeout=timedelta(hours=2)
        )()
        partition_sensor(config.dataset) >> validation >> trained
        step(f"{STEPS}.decide_step", config.for_run, keep=DECISION_FIELDS, pool=ALIAS_MOVES)(trained, validation)

    return training()


for model_name in model_names():
    build(load_model_config(model_name))
