"""The support assistant's nightly steps (llm_finetune): fine-tune, evaluate, decide.

Like the tabular steps they are keyed by the run's date D, leave records under REPORTS_URI/llm_finetune/<D>/,
and hand each other small JSON records. A rerun of D with the same config, data, index and base model reuses
its MLflow run (no second fine-tune, no second version); a retried fine-tune resumes from its last checkpoint.
"""

from __future__ import annotations

import hashlib
import json
import logging
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ml_platform import names
from ml_platform.config.assistant import AssistantConfig
from ml_platform.errors import ChampionMoved
from ml_platform.lake import Lake
from ml_platform.provenance import RECORD_ARTIFACT, build_record, sha256_files
from ml_platform.registry import ModelRegistry, run_tags, settle_promotion, train_or_reuse
from ml_platform.reports import Reports
from ml_platform.run_context import RunContext
from ml_platform.settings import Settings

if TYPE_CHECKING:
    from ml_platform.llm.base import BaseModel
    from ml_platform.retrieval.index import Retriever

log = logging.getLogger(__name__)


def _training_key(config: AssistantConfig, qa_hash: str, index: str, base_sha: str) -> str:
    from ml_platform.llm.prompts import load_template

    # The template's text, not only its file name: any edit of the wording retrains.
    material = [config.training_fingerprint(), load_template(config.prompt).sha256[:12], qa_hash, index, base_sha]
    return hashlib.sha256(json.dumps(material).encode()).hexdigest()[:16]


def finetune_step(config: AssistantConfig, settings: Settings, ctx: RunContext) -> dict[str, Any]:
    from ml_platform.llm.base import resolve_base_model
    from ml_platform.llm.prompts import load_template, register
    from ml_platform.retrieval.index import open_live_retriever

    lake = Lake.at(settings.lake_uri)
    retriever = open_live_retriever(settings.vector_store_uri)
    base = resolve_base_model(config, settings)
    key = _training_key(config, lake.info(config.tables.qa, ctx.day).content_hash, retriever.index_name, base.sha256)
    registry = ModelRegistry(settings)
    prompt = register(load_template(config.prompt))
    tags = run_tags(ctx, key) | {
        "base_model": base.name,
        "base_model_sha256": base.sha256,
        "prompt_version": prompt["version"],
        "prompt_uri": prompt["uri"],
        "index_version": retriever.index_name,
    }
    record = train_or_reuse(
        registry,
        config.registered_model,
        key,
        train=lambda: _finetune_and_log(config, ctx, lake, retriever, base, registry, tags),
        reuse=lambda run, version: {"run_id": run.info.run_id, "version": version, "reused": True},
    )
    record |= {"index": retriever.index_name, "training_key": key}
    if not record["reused"]:  # a reused run keeps the record (losses, data) of the run that trained it
        Reports.at(settings.reports_uri).write_json(config.pipeline, ctx.day, names.FINETUNE, record)
    return record


def _finetune_and_log(
    config: AssistantConfig,
    ctx: RunContext,
    lake: Lake,
    retriever: Retriever,
    base: BaseModel,
    registry: ModelRegistry,
    tags: dict[str, str],
) -> dict[str, Any]:
    from ml_platform.llm.base import load_base
    from ml_platform.llm.examples import training_examples
    from ml_platform.llm.finetune import CheckpointStore, finetune

    examples, data_stats = training_examples(lake.read(config.tables.qa, ctx.day), retriever, config)
    model, tokenizer = load_base(base)
    checkpoints = CheckpointStore(lake.store, f"_checkpoints/{config.pipeline}/{ctx.day}-{tags['training_key']}")
    workdir = Path(tempfile.mkdtemp(prefix="llm-finetune-"))
    result = finetune(model, tokenizer, examples, config.finetune, config.prompt, checkpoints, workdir)
    mlflow = registry.mlflow
    with mlflow.start_run(
        experiment_id=registry.experiment_id(config.registered_model),
        run_name=f"{config.name}-{ctx.day}-{ctx.run_type}",
        tags=tags,
    ) as run:
        mlflow.log_params(_flat(config.finetune.model_dump(), "ft_") | data_stats)
        # The history, not this attempt's losses: a retry after the last checkpoint trains no step at all.
        mlflow.log_metrics(
            {
                "train_loss_first": result.history[0],
                "train_loss_final": result.history[-1],
                "train_tokens_per_s": result.tokens_per_second,
                "resumed_from_step": result.resumed_from,
            }
        )
        for step, loss in enumerate(result.history, start=1):
            mlflow.log_metric("train_loss", loss, step=step)
        # The weights only: adapter_config.json names the base model's local path, which differs per machine.
        adapter_sha256 = sha256_files(result.adapter_dir, ("adapter_model.safetensors",))
        mlflow.log_param("adapter_sha256", adapter_sha256)
        mlflow.log_dict(
            build_record(
                kind="assistant",
                model=config.name,
                date=ctx.day.isoformat(),
                config=config.model_dump(mode="json"),
                config_hash=tags["training_key"],
                partitions=[lake.info(config.tables.qa, ctx.day).as_dict() | {"role": "train"}],
                seeds={"finetune": config.finetune.seed},
                model_sha256=adapter_sha256,
                root=registry.settings.project_root,
                extra={
                    "base_model": base.name,
                    "base_model_sha256": base.sha256,
                    "prompt_version": tags["prompt_version"],
                    "prompt_uri": tags["prompt_uri"],
                    "index_version": retriever.index_name,
                },
            ),
            RECORD_ARTIFACT,
        )
        info = _log_assistant(mlflow, result.adapter_dir, config, base, tags)
    version = str(info.registered_model_version)
    registry.tag_version(config.registered_model, version, tags)
    return {
        "run_id": run.info.run_id,
        "version": version,
        "reused": False,
        "finetune": result.as_dict(),
        "data": data_stats,
        "adapter_sha256": adapter_sha256,
    }


def _flat(values: dict[str, Any], prefix: str) -> dict[str, Any]:
    """Nested config values as flat MLflow params: {"lora": {"r": 8}} -> {"ft_lora_r": 8}."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        out |= _flat(value, f"{prefix}{key}_") if isinstance(value, dict) else {f"{prefix}{key}": value}
    return out


def _log_assistant(mlflow, adapter_dir: Path, config: AssistantConfig, base, tags: dict[str, str]):
    """The LoRA adapter as an MLflow pyfunc model; the base model is referenced by name and hash, not copied."""
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, Schema

    from ml_platform.llm.serving import SupportAssistantModel

    served_with = {
        "base_model": base.name,
        "base_model_sha256": base.sha256,
        "prompt_version": tags["prompt_version"],
        "prompt_uri": tags["prompt_uri"],
    }
    signature = ModelSignature(
        inputs=Schema(
            [
                ColSpec("string", "question"),
                ColSpec("string", "context"),
                ColSpec("double", "retrieval_score", required=False),
            ]
        ),
        outputs=Schema([ColSpec("string", "answer"), ColSpec("string", "guardrail")]),
    )
    return mlflow.pyfunc.log_model(
        name="model",
        python_model=SupportAssistantModel(),
        artifacts={"adapter": str(adapter_dir)},
        signature=signature,
        registered_model_name=config.registered_model,
        metadata=served_with,
        model_config=served_with,  # what the served model checks and loads (context.model_config)
        pip_requirements=["torch", "transformers", "peft", "ml-platform"],
    )


def evaluate_step(config: AssistantConfig, settings: Settings, ctx: RunContext, trained: dict[str, Any]) -> dict:
    """Base, champion and challenger through the same guarded RAG path on the same sampled questions, each rate
    with its 95% interval, and the challenger's paired differences against the base model and the champion."""
    from ml_platform.evaluation.assistant import answer_all, answers_table, compare, pick_questions, retrieve, score
    from ml_platform.llm.base import adapter_folder, load_with_adapters, resolve_base_model
    from ml_platform.retrieval.index import open_live_retriever

    registry, lake = ModelRegistry(settings), Lake.at(settings.lake_uri)
    evaluation = config.evaluation
    questions = pick_questions(
        lake.read(config.tables.eval, ctx.day), evaluation.questions, config.finetune.seed, ctx.day
    )
    retrieved = retrieve(questions, open_live_retriever(settings.vector_store_uri), config)
    champion = registry.champion_seen_by(config.registered_model, trained["version"], ctx.airflow_run_id)
    versions = {"challenger": trained["version"]}
    if champion is not None and champion != trained["version"]:
        versions["champion"] = champion
    adapters = {label: adapter_folder(registry, config.registered_model, v) for label, v in versions.items()}
    base = resolve_base_model(config, settings)
    assistant, tokenizer = load_with_adapters(base, adapters)
    answers = {}
    with assistant.disable_adapter():
        cache = _answer_cache(lake, base.sha256, ctx, "base")
        answers["base"] = answer_all(assistant, tokenizer, questions, retrieved, config, cache, "base")
    for label, version in sorted(versions.items(), key=lambda item: item[0] != "champion"):
        assistant.set_adapter(label)
        adapter = sha256_files(adapters[label], ("adapter_model.safetensors",))
        model_hash = hashlib.sha256(f"{base.sha256}/{adapter}".encode()).hexdigest()
        cache = _answer_cache(lake, model_hash, ctx, label)
        answers[label] = answer_all(assistant, tokenizer, questions, retrieved, config, cache, f"{label} v{version}")
    results, intervals = {}, {}
    for label, items in answers.items():
        results[label], intervals[label] = score(items, config)
    compared = sorted({*config.promotion.better_than_base, *config.promotion.not_worse_than_champion})
    comparisons = {
        f"challenger_vs_{other}": compare(answers["challenger"], answers[other], compared, evaluation.bootstrap_seed)
        for other in ("base", "champion")
        if other in answers
    }
    table = [row for label, items in answers.items() for row in answers_table(items, label)]
    with registry.mlflow.start_run(run_id=trained["run_id"]):
        for label, metrics in results.items():
            registry.mlflow.log_metrics({f"{label}_{k}": v for k, v in metrics.items()})
        registry.mlflow.log_dict({"answers": table}, f"evaluation/{ctx.day}-answers.json")
    reports = Reports.at(settings.reports_uri)
    reports.write_json(config.pipeline, ctx.day, names.ANSWERS, {"answers": table})
    record = {
        "models": results,
        "intervals": intervals,
        "comparisons": comparisons,
        "champion_version": champion,
        "questions": len(questions),
        "unanswerable": int((~questions["answerable"]).sum()),
    }
    reports.write_json(config.pipeline, ctx.day, names.EVALUATION, record)
    for label, metrics in results.items():
        ci = intervals[label]
        log.info(
            "%-10s hallucination %.3f [%.3f, %.3f]  correct %.3f [%.3f, %.3f]  abstention %.3f  served wrong %.3f"
            "  served false abstention %.3f",
            label,
            metrics["hallucination_rate"],
            *ci["hallucination_rate"],
            metrics["correctness"],
            *ci["correctness"],
            metrics["abstention_accuracy"],
            metrics["served_wrong_answer_rate"],
            metrics["served_false_abstention_rate"],
        )
    return record


def _answer_cache(lake: Lake, model_hash: str, ctx: RunContext, label: str):
    from ml_platform.evaluation.assistant import AnswerCache

    run = hashlib.sha256(f"{ctx.airflow_run_id}/{ctx.try_number}".encode()).hexdigest()[:12]
    return AnswerCache(lake.store, model_hash, f"{ctx.day}-{label}-{run}")


def decide_step(
    config: AssistantConfig, settings: Settings, ctx: RunContext, trained: dict[str, Any], evaluation: dict[str, Any]
) -> dict[str, Any]:
    registry = ModelRegistry(settings)
    # The champion the evaluation compared against; the alias move checks it is still the champion.
    champion = evaluation["champion_version"]
    models = evaluation["models"]
    try:
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
            facts={
                "index_version": trained["index"],
                "base_metrics": models["base"],
                "comparisons": evaluation.get("comparisons", {}),
            },
        )
    except ChampionMoved as moved:
        raise stale_evaluation(moved) from moved
    return decision.as_dict()


def stale_evaluation(moved: ChampionMoved) -> ChampionMoved:
    """Unlike the tabular decide (which reads the champion itself), this one judges the evaluate task's record:
    a retry would compare against the same stale champion and fail again, so only re-evaluating helps."""
    return ChampionMoved(
        f"{moved}. The evaluation is stale and retrying decide cannot help: clear the evaluate task (and its"
        " downstream) to re-evaluate against the new champion",
        report_url=moved.report_url,
        retryable=False,
    )
