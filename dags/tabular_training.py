"""Tabular model training: one factory, one DAG per model config (`churn_training`, `fraud_training`).

wait for the day's partition -> validate it (Great Expectations; a failure quarantines it and stops the run)
-> train XGBoost on the days before and evaluate on the day (MLflow run, registered version)
-> decide promotion against the champion on the same day (aliases champion / challenger / previous).
Backfill runs train, evaluate and record, but never move an alias.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import AssetOrTimeSchedule, CronTriggerTimetable, Param, dag, task
from wiring import (
    DEFAULT_ARGS,
    drift_asset,
    force_promote_params,
    force_reason,
    lake_asset,
    partition_sensor,
    run_context,
)

from ml_platform.tabular.config import load_model_config, model_names

HYPERPARAMETER_SCHEMA = {
    "max_depth": {"type": "integer", "minimum": 1, "maximum": 12},
    "learning_rate": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
    "n_estimators": {"type": "integer", "minimum": 10, "maximum": 5000},
    "min_child_weight": {"type": "number", "minimum": 0},
    "subsample": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
    "colsample_bytree": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
    "reg_lambda": {"type": "number", "minimum": 0},
}


def form(config) -> dict[str, Param]:
    return {
        "train_days": Param(
            None,
            type=["null", "integer"],
            minimum=2,
            maximum=90,
            description=f"Days of history to train on (default {config.train_days}).",
        ),
        "sample_rows_per_day": Param(
            None,
            type=["null", "integer"],
            minimum=100,
            description="Sample this many rows per day (quick experiments); empty = all.",
        ),
        "hyperparameters": Param(
            {},
            type="object",
            properties=HYPERPARAMETER_SCHEMA,
            additionalProperties=False,
            description=f'XGBoost overrides, e.g. {{"max_depth": 5}}; defaults: {config.hyperparameters}',
        ),
        **force_promote_params(),
    }


def build(name: str):
    config = load_model_config(name)

    @dag(
        dag_id=config.dag_id,
        # Nightly, and at once when model_monitoring finds this model's data drifted.
        schedule=AssetOrTimeSchedule(
            timetable=CronTriggerTimetable(config.schedule, timezone="UTC"), assets=drift_asset(config.name)
        ),
        start_date=datetime(2026, 1, 1),
        catchup=False,
        max_active_runs=1,
        default_args=DEFAULT_ARGS,
        tags=["mlops", "tabular", config.name],
        doc_md=f"### {config.registered_model}\n\n{config.description}\n\n{__doc__}",
        params=form(config),
    )
    def training():
        @task(inlets=[lake_asset(config.dataset)])
        def validate(**context) -> dict:
            from airflow.sdk.exceptions import AirflowFailException

            from ml_platform.settings import Settings
            from ml_platform.tabular.pipeline import validate_step
            from ml_platform.validation import ValidationFailed

            try:
                return validate_step(config, Settings.from_env(), run_context(context))
            except ValidationFailed as failure:
                # Bad data stays bad on retry: fail now, with the failed expectations in the message.
                raise AirflowFailException(str(failure)) from failure

        @task(pool="model_training", execution_timeout=timedelta(hours=2))
        def train(**context) -> dict:
            from airflow.sdk.exceptions import AirflowFailException

            from ml_platform.settings import Settings
            from ml_platform.tabular.pipeline import train_step
            from ml_platform.tabular.training import NotEnoughHistory

            params = context["params"]
            tuned = config.with_overrides(
                params["train_days"], params["hyperparameters"], params["sample_rows_per_day"]
            )
            try:
                return train_step(tuned, Settings.from_env(), run_context(context))
            except NotEnoughHistory as missing:
                # Missing history does not appear by retrying: say what to backfill, and stop.
                raise AirflowFailException(f"{missing}; backfill ingest_daily for those dates first") from missing

        @task
        def decide(training: dict, validation: dict, **context) -> dict:
            from ml_platform.settings import Settings
            from ml_platform.tabular.pipeline import decide_step

            reason = force_reason(context["params"])
            decision = decide_step(config, Settings.from_env(), run_context(context), training, validation, reason)
            return {k: decision[k] for k in ("verdict", "reasons", "champion_before", "champion_after")}

        validation = validate()
        training_result = train()
        partition_sensor(config.dataset) >> validation >> training_result
        decide(training_result, validation)

    return training()


for model_name in model_names():
    build(model_name)
