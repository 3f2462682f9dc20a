"""Nightly LoRA fine-tuning of the support assistant, evaluation through the RAG path, and promotion.

fine_tune: LoRA (PEFT) on grounded RAG prompts built from the day's Q&A pairs and the live index;
checkpoints to the lake every N steps, so a retried task resumes. evaluate: base, champion and challenger
on the same held-out questions (correctness, hallucination rate, abstention, latency, tokens, cost).
decide: the registry policy (hallucination at most the champion's and under budget, correctness within
tolerance, abstention and latency within budget). Backfill runs never promote.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import dag
from wiring import forms
from wiring.policy import task_defaults
from wiring.sensors import partition_sensor
from wiring.steps import ALIAS_MOVES, DECISION_FIELDS, step

from ml_platform import names
from ml_platform.config.assistant import load_assistant_config

CONFIG = load_assistant_config()
STEPS = "ml_platform.pipelines.assistant"


@dag(
    dag_id=names.LLM_FINETUNE,
    schedule=CONFIG.schedules.llm_finetune,
    start_date=datetime.combine(CONFIG.start_date, datetime.min.time()),
    catchup=False,
    max_active_runs=1,
    default_args=task_defaults(CONFIG.name),
    tags=["llmops", "fine-tuning", "support-assistant"],
    doc_md=__doc__,
    params={
        **{
            name: forms.bounded(getattr(CONFIG.form, name), description=f"Default {default}.")
            for name, default in CONFIG.form_defaults().items()
        },
        **forms.force_promote(),
    },
)
def llm_finetune():
    trained = step(
        f"{STEPS}.finetune_step",
        CONFIG.for_run,
        task_id="fine_tune",
        pool="llm_training",
        execution_timeout=timedelta(hours=3),
        keep=("run_id", "version", "reused", "index"),
    )()
    evaluation = step(
        f"{STEPS}.evaluate_step", CONFIG.for_run, pool="llm_training", execution_timeout=timedelta(hours=2)
    )(trained)
    partition_sensor(CONFIG.tables.qa) >> trained
    step(f"{STEPS}.decide_step", CONFIG.for_run, keep=DECISION_FIELDS, pool=ALIAS_MOVES)(trained, evaluation)


llm_finetune()
