"""Manual rollback: move a model's `champion` alias back to its `previous` version, with a written reason.

Triggered from the UI only (no schedule). The rollback is recorded as a decision like any promotion:
in the task log, under REPORTS_URI/model_rollback/<date>/<model>_rollback.json, and as a tag on the demoted
version.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import Param, dag
from wiring.policy import task_defaults
from wiring.steps import ALIAS_MOVES, DECISION_FIELDS, step

from ml_platform import names
from ml_platform.config.tabular import load_model_config, load_training_pipeline, model_names
from ml_platform.run_context import MIN_REASON_CHARS


def chosen_model(params: dict):
    return load_model_config(params["model"])


@dag(
    dag_id=names.ROLLBACK,
    schedule=None,
    start_date=datetime.combine(load_training_pipeline().start_date, datetime.min.time()),
    catchup=False,
    default_args=task_defaults(),
    tags=["mlops", "registry", "manual-only"],
    doc_md=__doc__,
    params={
        "model": Param(model_names()[0], enum=model_names(), description="Which model's champion to roll back."),
        "reason": Param(
            "",
            type="string",
            minLength=MIN_REASON_CHARS,
            maxLength=500,
            description=f"Why (at least {MIN_REASON_CHARS} characters); recorded with the decision.",
        ),
    },
)
def model_rollback():
    step("ml_platform.pipelines.tabular.rollback_step", chosen_model, keep=DECISION_FIELDS, pool=ALIAS_MOVES)()


model_rollback()
