"""Nightly LoRA fine-tuning of the support assistant, evaluation through the RAG path, and promotion.

fine_tune: LoRA (PEFT) on grounded RAG prompts built from the day's Q&A pairs and the live index;
checkpoints to the lake every N steps, so a retried task resumes. evaluate: base, champion and challenger
on the same held-out questions (correctness, hallucination rate, abstention, latency, tokens, cost).
decide: the registry policy (hallucination at most the champion's and under budget, correctness within
tolerance, abstention and latency within budget). Backfill runs never promote.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import Param, dag, task
from wiring import DEFAULT_ARGS, force_promote_params, force_reason, partition_sensor, run_context

from ml_platform.llm.config import load_assistant_config

CONFIG = load_assistant_config()
FT = CONFIG.finetune


@dag(
    dag_id="llm_finetune",
    schedule=CONFIG.schedules["llm_finetune"],
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["llmops", "fine-tuning", "support-assistant"],
    doc_md=__doc__,
    params={
        "steps": Param(
            None,
            type=["null", "integer"],
            minimum=1,
            maximum=5000,
            description=f"LoRA training steps (default {FT.steps}).",
        ),
        "learning_rate": Param(
            None,
            type=["null", "number"],
            exclusiveMinimum=0,
            maximum=0.01,
            description=f"Peak learning rate (default {FT.learning_rate}).",
        ),
        "lora_r": Param(
            None, type=["null", "integer"], minimum=1, maximum=256, description=f"LoRA rank (default {FT.lora_r})."
        ),
        "train_pairs": Param(
            None,
            type=["null", "integer"],
            minimum=8,
            maximum=100000,
            description=f"Q&A pairs sampled for training (default {FT.train_pairs}).",
        ),
        "eval_questions": Param(
            None,
            type=["null", "integer"],
            minimum=4,
            maximum=1000,
            description=f"Held-out questions per model (default {CONFIG.eval_questions}).",
        ),
        **force_promote_params(),
    },
)
def llm_finetune():
    def tuned(params: dict):
        keys = ("steps", "learning_rate", "lora_r", "train_pairs", "eval_questions")
        return CONFIG.with_overrides(**{k: params[k] for k in keys})

    @task(pool="llm_training", execution_timeout=timedelta(hours=3))
    def fine_tune(**context) -> dict:
        from ml_platform.llm.pipeline import finetune_step
        from ml_platform.settings import Settings

        return finetune_step(tuned(context["params"]), Settings.from_env(), run_context(context))

    @task(pool="llm_training", execution_timeout=timedelta(hours=2))
    def evaluate(trained: dict, **context) -> dict:
        from ml_platform.llm.pipeline import evaluate_step
        from ml_platform.settings import Settings

        return evaluate_step(tuned(context["params"]), Settings.from_env(), run_context(context), trained)

    @task
    def decide(trained: dict, evaluation: dict, **context) -> dict:

        from ml_platform.llm.pipeline import decide_step
        from ml_platform.settings import Settings

        reason = force_reason(context["params"])
        decision = decide_step(CONFIG, Settings.from_env(), run_context(context), trained, evaluation, reason)
        return {k: decision[k] for k in ("verdict", "reasons", "champion_before", "champion_after")}

    trained = fine_tune()
    partition_sensor("support_qa") >> trained
    decide(trained, evaluate(trained))


llm_finetune()
