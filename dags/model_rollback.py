"""Manual rollback: move a model's `champion` alias back to its `previous` version, with a written reason.

Triggered from the UI only (no schedule). The rollback is recorded as a decision like any promotion:
in the task log, under REPORTS_URI/<model>_training/<date>/rollback.json, and as a tag on the demoted version.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import Param, dag, task
from wiring import DEFAULT_ARGS, run_context

from ml_platform.tabular.config import model_names


@dag(
    dag_id="model_rollback",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    default_args=DEFAULT_ARGS,
    tags=["mlops", "registry", "manual-only"],
    doc_md=__doc__,
    params={
        "model": Param(model_names()[0], enum=model_names(), description="Which model's champion to roll back."),
        "reason": Param(
            "",
            type="string",
            minLength=10,
            maxLength=500,
            description="Why (at least 10 characters); recorded with the decision.",
        ),
    },
)
def model_rollback():
    @task
    def rollback(**context) -> dict:
        from ml_platform.settings import Settings
        from ml_platform.tabular.config import load_model_config
        from ml_platform.tabular.pipeline import rollback_step

        params = context["params"]
        config = load_model_config(params["model"])
        decision = rollback_step(config, Settings.from_env(), run_context(context), params["reason"])
        return {k: decision[k] for k in ("verdict", "reasons", "champion_before", "champion_after")}

    rollback()


model_rollback()
