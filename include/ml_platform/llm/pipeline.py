"""The support assistant's nightly steps: refresh the index, fine-tune, evaluate, decide.

Like the tabular steps they are keyed by the run's date D, leave records under REPORTS_URI/<pipeline>/<D>/,
and hand each other small JSON records. A rerun of D with the same config, data and index reuses its MLflow
run (no second fine-tune, no second version); a retried fine-tune resumes from its last checkpoint.
"""

from __future__ import annotations

import hashlib
import json
import logging
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from ml_platform.lake import Lake
from ml_platform.llm.config import AssistantConfig
from ml_platform.registry import CHAMPION, ModelRegistry, settle_promotion, stale_reason
from ml_platform.reports import Reports
from ml_platform.run_context import RunContext
from ml_platform.settings import Settings

log = logging.getLogger(__name__)
REFRESH_PIPELINE = "kb_embedding_refresh"


class IndexCheckFailed(RuntimeError):
    """The refreshed index missed its retrieval floor; the live index was left in place."""


# -- kb_embedding_refresh -------------------------------------------------------------------------------------
def refresh_step(config: AssistantConfig, settings: Settings, ctx: RunContext) -> dict[str, Any]:
    from ml_platform.retrieval.index import refresh_index
    from ml_platform.retrieval.stores import open_vector_store

    lake = Lake.at(settings.lake_uri)
    kb, questions = lake.read("support_kb", ctx.day), lake.read("support_eval", ctx.day)
    with open_vector_store(settings.vector_store_uri) as store:
        report = refresh_index(store, kb, questions, ctx.day, k=config.k, hit_rate_floor=config.hit_rate_floor)
    record = report.as_dict() | {
        "summary": {
            "section": "Knowledge-base index",
            "rows": [
                {
                    "date": ctx.day.isoformat(),
                    "chunks": report.chunks_total,
                    "embedded": report.embedded,
                    "deleted": report.deleted,
                    "blocked": len(report.blocked),
                    f"hit_rate@{config.k}": report.hit_rate,
                    "live": f"{report.live_before or 'none'} -> {report.live_after}",
                    "promoted": report.promoted,
                }
            ],
        }
    }
    Reports.at(settings.reports_uri).write_json(REFRESH_PIPELINE, ctx.day, "refresh", record)
    log.info("index refresh %s: %s", ctx.day, report.reason)
    if not report.promoted:
        raise IndexCheckFailed(
            f"index {report.index_name} not made live: {report.reason}; live index stays {report.live_before}"
        )
    return {k: v for k, v in record.items() if k != "summary"}


# -- training data --------------------------------------------------------------------------------------------
def training_examples(qa: pd.DataFrame, retriever, config: AssistantConfig) -> tuple[list, dict[str, int]]:
    """Grounded RAG examples: retrieved context (the supporting article guaranteed in it) -> answer.

    Q&A text passes the guardrails first: PII is redacted and pairs carrying an injection are dropped, so
    neither reaches the training set.
    """
    from ml_platform.guardrails import screen_frame
    from ml_platform.llm.finetune import Example
    from ml_platform.llm.prompts import format_context

    screened, counts = screen_frame(qa, ["question", "answer"])
    kept = screened[~screened["blocked"]]
    abstain = kept[kept["qa_id"].str.endswith("-abstain")]
    grounded = kept.drop(abstain.index)
    # Abstaining is the rarer skill: repeat "I don't know" pairs up to a fixed share of the training set.
    n_abstain = round(config.finetune.train_pairs * config.finetune.abstain_share) if len(abstain) else 0
    abstain = abstain.sample(n=n_abstain, replace=n_abstain > len(abstain), random_state=config.finetune.seed)
    budget = max(0, config.finetune.train_pairs - len(abstain))
    sample = pd.concat([grounded.sample(n=min(budget, len(grounded)), random_state=config.finetune.seed), abstain])
    examples = []
    wide = max(20, config.k)  # deep enough to find the supporting article when it is not in the top k
    for row, hits in zip(sample.itertuples(), retriever.search_many(sample["question"].tolist(), wide), strict=True):
        passages = [h.text for h in hits[: config.k]]
        if not row.qa_id.endswith("-abstain") and row.article_id not in {h.article_id for h in hits[: config.k]}:
            best = next((h for h in hits if h.article_id == row.article_id), None)
            if best is None:
                continue  # the answer cannot be grounded in anything retrievable: do not teach it
            passages = [best.text, *passages[: config.k - 1]]
        examples.append(Example(row.question, format_context(passages, config.max_context_chars), row.answer))
    stats = {
        "qa_pairs": len(qa),
        "blocked_injection": int(screened["blocked"].sum()),
        "examples": len(examples),
        "abstain_examples": int(sum(r.qa_id.endswith("-abstain") for r in sample.itertuples())),
        **{f"redacted_{k}": v for k, v in counts.items()},
    }
    return examples, stats


# -- llm_finetune ---------------------------------------------------------------------------------------------
def _training_key(config: AssistantConfig, qa_hash: str, index: str, base_sha: str) -> str:
    material = [config.fingerprint(), qa_hash, index, base_sha]
    return hashlib.sha256(json.dumps(material).encode()).hexdigest()[:16]


def finetune_step(config: AssistantConfig, settings: Settings, ctx: RunContext) -> dict[str, Any]:
    from ml_platform.llm.base import load_base, resolve_base_model
    from ml_platform.llm.finetune import CheckpointStore, finetune
    from ml_platform.retrieval.index import open_live_retriever

    lake = Lake.at(settings.lake_uri)
    retriever = open_live_retriever(settings.vector_store_uri)
    base = resolve_base_model(config, settings)
    qa_info = lake.info("support_qa", ctx.day)
    key = _training_key(config, qa_info.content_hash, retriever.index_name, base.sha256)
    registry = ModelRegistry(settings)
    existing = registry.find_run(config.registered_model, {"training_key": key})
    version = existing and registry.version_of_run(config.registered_model, existing.info.run_id)
    if version:
        log.info("same config, data, index and base model as run %s: reusing version %s", existing.info.run_id, version)
        return {
            "run_id": existing.info.run_id,
            "version": version,
            "reused": True,
            "index": retriever.index_name,
            "training_key": key,
        }
    examples, data_stats = training_examples(lake.read("support_qa", ctx.day), retriever, config)
    model, tokenizer = load_base(base)
    checkpoints = CheckpointStore(lake.store, f"_checkpoints/{config.pipeline}/{ctx.day}-{key}")
    result = finetune(model, tokenizer, examples, config.finetune, checkpoints, Path(tempfile.mkdtemp()))
    mlflow = registry.mlflow
    tags = {
        "partition_date": ctx.day.isoformat(),
        "run_type": ctx.run_type,
        "airflow_run_id": ctx.airflow_run_id,
        "training_key": key,
        "base_model": base.name,
        "base_model_sha256": base.sha256,
        "prompt_version": _prompt_version(),
        "index_version": retriever.index_name,
    }
    with mlflow.start_run(
        experiment_id=registry.experiment_id(config.registered_model),
        run_name=f"{config.name}-{ctx.day}-{ctx.run_type}",
        tags=tags,
    ) as run:
        mlflow.log_params({f"ft_{k}": v for k, v in vars(config.finetune).items()} | data_stats)
        mlflow.log_metrics(
            {
                "train_loss_first": result.losses[0],
                "train_loss_final": result.losses[-1],
                "train_tokens_per_s": result.tokens_per_second,
                "resumed_from_step": result.resumed_from,
            }
        )
        for step, loss in enumerate(result.losses, start=result.resumed_from + 1):
            mlflow.log_metric("train_loss", loss, step=step)
        info = _log_assistant(mlflow, result.adapter_dir, config, base)
    version = str(info.registered_model_version)
    for tag, value in tags.items():
        registry.client.set_model_version_tag(config.registered_model, version, tag, value)
    record = {
        "run_id": run.info.run_id,
        "version": version,
        "reused": False,
        "index": retriever.index_name,
        "training_key": key,
        "finetune": result.as_dict(),
        "data": data_stats,
    }
    Reports.at(settings.reports_uri).write_json(config.pipeline, ctx.day, "finetune", record)
    return record


def _prompt_version() -> str:
    from ml_platform.llm.prompts import PROMPT_VERSION

    return PROMPT_VERSION


def _log_assistant(mlflow, adapter_dir: Path, config: AssistantConfig, base):
    """The LoRA adapter as an MLflow pyfunc model; the base model is referenced by name and hash, not copied."""
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, Schema

    from ml_platform.llm.serving import SupportAssistantModel

    signature = ModelSignature(
        inputs=Schema([ColSpec("string", "question"), ColSpec("string", "context")]),
        outputs=Schema([ColSpec("string", "answer")]),
    )
    return mlflow.pyfunc.log_model(
        name="model",
        python_model=SupportAssistantModel(),
        artifacts={"adapter": str(adapter_dir)},
        signature=signature,
        registered_model_name=config.registered_model,
        metadata={"base_model": base.name, "base_model_sha256": base.sha256, "prompt_version": _prompt_version()},
        pip_requirements=["torch", "transformers", "peft", "ml-platform"],
    )


def adapter_of(registry: ModelRegistry, config: AssistantConfig, version: str) -> Path:
    """Download a registered version's LoRA adapter folder."""
    folder = Path(tempfile.mkdtemp(prefix=f"adapter-v{version}-"))
    registry.mlflow.artifacts.download_artifacts(f"models:/{config.registered_model}/{version}", dst_path=str(folder))
    return next(p.parent for p in folder.rglob("adapter_config.json"))


def evaluate_step(config: AssistantConfig, settings: Settings, ctx: RunContext, trained: dict[str, Any]) -> dict:
    """Base, champion and challenger through the same RAG path on the same held-out questions."""
    from peft import PeftModel

    from ml_platform.llm.base import load_base, resolve_base_model
    from ml_platform.llm.evaluation import answer_all, answers_table, pick_questions, retrieve_contexts, score
    from ml_platform.retrieval.index import open_live_retriever

    registry, lake = ModelRegistry(settings), Lake.at(settings.lake_uri)
    questions = pick_questions(lake.read("support_eval", ctx.day), config.eval_questions, config.finetune.seed)
    contexts = retrieve_contexts(questions, open_live_retriever(settings.vector_store_uri), config)
    model, tokenizer = load_base(resolve_base_model(config, settings))
    champion = registry.alias_version(config.registered_model, CHAMPION)
    peft_model = PeftModel.from_pretrained(
        model, adapter_of(registry, config, trained["version"]), adapter_name="challenger"
    )
    results: dict[str, dict[str, float]] = {}
    table: list[dict[str, Any]] = []
    with peft_model.disable_adapter():
        answers = answer_all(peft_model, tokenizer, questions, contexts, config, "base")
    results["base"], table = score(answers, config), table + answers_table(answers, "base")
    if champion is not None and champion != trained["version"]:
        peft_model.load_adapter(adapter_of(registry, config, champion), adapter_name="champion")
        peft_model.set_adapter("champion")
        answers = answer_all(peft_model, tokenizer, questions, contexts, config, f"champion v{champion}")
        results["champion"], table = score(answers, config), table + answers_table(answers, "champion")
    peft_model.set_adapter("challenger")
    answers = answer_all(peft_model, tokenizer, questions, contexts, config, f"challenger v{trained['version']}")
    results["challenger"], table = score(answers, config), table + answers_table(answers, "challenger")
    with registry.mlflow.start_run(run_id=trained["run_id"]):
        for label, metrics in results.items():
            registry.mlflow.log_metrics({f"{label}_{k}": v for k, v in metrics.items()})
        registry.mlflow.log_dict({"answers": table}, f"evaluation/{ctx.day}-answers.json")
    reports = Reports.at(settings.reports_uri)
    reports.write_json(config.pipeline, ctx.day, "answers", {"answers": table})
    record = {
        "models": results,
        "champion_version": champion,
        "questions": len(questions),
        "summary": {
            "section": "Support assistant (RAG evaluation)",
            "rows": [
                {"model": label, **{k: v for k, v in m.items() if k != "questions"}} for label, m in results.items()
            ],
        },
    }
    reports.write_json(config.pipeline, ctx.day, "evaluation", record)
    for label, metrics in results.items():
        log.info(
            "%-10s hallucination %.3f  token F1 %.3f  ROUGE-L %.3f  abstention %.3f  p95 %.2fs",
            label,
            metrics["hallucination_rate"],
            metrics["token_f1"],
            metrics["rouge_l"],
            metrics["abstention_accuracy"],
            metrics["latency_p95_s"],
        )
    return {k: v for k, v in record.items() if k != "summary"}


def decide_step(
    config: AssistantConfig,
    settings: Settings,
    ctx: RunContext,
    trained: dict[str, Any],
    evaluation: dict[str, Any],
    force_reason: str | None = None,
) -> dict[str, Any]:
    registry = ModelRegistry(settings)
    champion = registry.alias_version(config.registered_model, CHAMPION)
    models = evaluation["models"]
    decision = settle_promotion(
        registry,
        model=config.name,
        registered_model=config.registered_model,
        pipeline=config.pipeline,
        ctx=ctx,
        version=trained["version"],
        run_id=trained["run_id"],
        policy=config.promotion,
        challenger_metrics=models["challenger"],
        champion_version=champion,
        champion_metrics=models.get("champion") if champion != trained["version"] else None,
        facts={"index_version": trained["index"], "base_metrics": models["base"]},
        force_reason=force_reason,
        stale_reason=stale_reason(registry, config.registered_model, champion, ctx.day),
        summary_row={"model": "decision", "version": trained["version"]},
        summary_section="Support assistant (decision)",
    )
    return decision.as_dict()
