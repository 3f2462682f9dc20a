"""model_monitoring's steps: drift of each tabular champion, production monitoring of the assistant, and the
drift timeline over a range of days.

The tabular reference is the champion's own training data (the partitions recorded in its MLflow run), so it
moves when the champion changes. Records land under REPORTS_URI/model_monitoring/<D>/ (Evidently's HTML and
a JSON record) and beside the champion in MLflow; the training pipelines' drift gate reads the same JSON.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

import pandas as pd

from ml_platform import names
from ml_platform.alerts import configured_webhook, failure_alert, send_alert
from ml_platform.config.assistant import AssistantConfig
from ml_platform.config.datasets import load_schema
from ml_platform.config.tabular import ModelConfig
from ml_platform.dates import as_date
from ml_platform.errors import LLMBudgetExceeded, NotEnoughHistory, PlatformError, QuestionDrift
from ml_platform.lake import Lake
from ml_platform.pipelines.screening import require_valid, screen_history
from ml_platform.registry import CHAMPION, ModelRegistry
from ml_platform.reports import Reports
from ml_platform.run_context import RunContext
from ml_platform.settings import Settings

log = logging.getLogger(__name__)


# -- tabular drift ---------------------------------------------------------------------------------------
def _champion_reference(registry: ModelRegistry, config: ModelConfig, version: str) -> tuple[list[str], Any]:
    version_info = registry.version(config.registered_model, version)
    partitions = registry.mlflow.artifacts.load_dict(f"runs:/{version_info.run_id}/data/partitions.json")
    days = [p["dt"] for p in partitions["partitions"] if p["role"] in ("train", "early_stopping")]
    return days, version_info


def tabular_monitor_step(config: ModelConfig, settings: Settings, ctx: RunContext) -> dict[str, Any]:
    """The day against the champion's training data. `retrain` says whether the day should trigger this model's
    retraining: drifted, and not a backfill (backfills record verdicts for the timeline, and trigger nothing)."""
    registry = ModelRegistry(settings)
    champion = registry.alias_version(config.registered_model, CHAMPION)
    if champion is None:
        log.info("%s has no champion yet: nothing to monitor", config.registered_model)
        return {"model": config.name, "day": ctx.day.isoformat(), "verdict": "no_champion", "retrain": False}
    result, version_info = _tabular_drift(config, settings, ctx, registry, champion)
    reports = Reports.at(settings.reports_uri)
    html_url = reports.write_bytes(names.MONITORING, ctx.day, names.drift_report(config.name), result.html.encode())
    retrain = result.drifted and not ctx.is_backfill
    record = result.as_dict() | {
        "champion_version": champion,
        "html_report": html_url,
        "run_type": ctx.run_type,
        "retrain": retrain,
    }
    reports.write_json(names.MONITORING, ctx.day, names.drift_record(config.name), record)
    registry.client.log_text(version_info.run_id, result.html, f"monitoring/{ctx.day}/drift.html")
    registry.client.log_dict(version_info.run_id, result.as_dict(), f"monitoring/{ctx.day}/drift.json")
    log.info(
        "%s %s: %s (%.0f%% of features drifted: %s) report %s",
        config.name,
        ctx.day,
        result.verdict,
        100 * result.share_drifted,
        ", ".join(result.drifted_features) or "none",
        html_url,
    )
    if result.drifted and ctx.is_backfill:
        log.info("%s drifted on %s: recorded only (backfill runs trigger no retraining)", config.name, ctx.day)
    return record


def _tabular_drift(config: ModelConfig, settings: Settings, ctx: RunContext, registry: ModelRegistry, champion: str):
    import mlflow.xgboost

    from ml_platform.monitoring.drift import tabular_drift
    from ml_platform.tabular.features import raw_feature_columns, score

    lake = Lake.at(settings.lake_uri)
    require_valid(settings, config.dataset, ctx.day, names.MONITORING, ctx)
    days, version_info = _champion_reference(registry, config, champion)
    left_out = screen_history(settings, config.dataset, days, names.MONITORING, ctx)
    skipped = {str(d["dt"]) for d in left_out if d.get("left_in_place")}
    days = [d for d in days if lake.exists(config.dataset, d) and str(d) not in skipped]
    if not days:
        raise NotEnoughHistory(
            f"{config.name}: none of champion version {champion}'s training days of {config.dataset} passes "
            f"validation now ({len(left_out)} left out); drift cannot be judged against an empty reference: "
            "train a new champion, or restore the suite its data passed"
        )
    reference = pd.concat([lake.read(config.dataset, d) for d in days], ignore_index=True)
    if len(reference) > config.monitoring.max_reference_rows:
        reference = reference.sample(n=config.monitoring.max_reference_rows, random_state=0).reset_index(drop=True)
    current = lake.read(config.dataset, ctx.day)
    model = mlflow.xgboost.load_model(f"models:/{config.registered_model}/{champion}")
    schema = load_schema(config.dataset)
    with_scores = config.monitoring.prediction_drift
    result = tabular_drift(
        config.name,
        ctx.day,
        reference,
        current,
        schema,
        raw_feature_columns(schema, config),
        score(model, reference, schema, config) if with_scores else None,
        score(model, current, schema, config) if with_scores else None,
        share_threshold=config.monitoring.drift_share_threshold,
        reference_days=days,
    )
    return result, version_info


# -- the assistant in production -------------------------------------------------------------------------
def _sample_questions(chats: pd.DataFrame, n: int) -> tuple[pd.DataFrame, int]:
    """Screened chat questions (PII redacted, injections set aside and counted) and a fixed-seed sample."""
    from ml_platform.guardrails.screening import screen_frame

    screened, _ = screen_frame(chats, ["question"])
    clean = screened[~screened["blocked"]]
    sample = clean.sample(n=min(n, len(clean)), random_state=0) if len(clean) else clean
    questions = sample.assign(question_id=sample["chat_id"], gold_answer="", article_id=None, answerable=True)
    return questions, int(screened["blocked"].sum())


def _breaches(config: AssistantConfig, metrics: dict[str, Any], drift, report_url: str) -> list[PlatformError]:
    """The production budgets the day broke, as typed failures that are alerted but not raised: the task
    succeeds, so the rest of the night's monitoring runs."""
    budget, breaches = config.monitoring, []
    if metrics["hallucination_rate"] > budget.hallucination_alert:
        text = f"hallucination rate {metrics['hallucination_rate']:.2f} > {budget.hallucination_alert}"
        breaches.append(LLMBudgetExceeded(text, report_url=report_url))
    if metrics["latency_p95_s"] > budget.latency_p95_alert_s:
        text = f"latency p95 {metrics['latency_p95_s']:.2f}s > budget {budget.latency_p95_alert_s}s"
        breaches.append(LLMBudgetExceeded(text, report_url=report_url))
    if budget.embedding_drift_alert and drift.drifted:
        text = f"question embedding drift ({drift.method}: {drift.score:.3f} > {drift.threshold:.3f})"
        breaches.append(QuestionDrift(text, report_url=report_url))
    return breaches


def _alert(breach: PlatformError, config: AssistantConfig, ctx: RunContext) -> None:
    alert = failure_alert(
        dag_id=ctx.dag_id or names.MONITORING,
        task_id=ctx.task_id,
        run_id=ctx.airflow_run_id,
        day=ctx.day.isoformat(),
        error=breach,
        records_url=breach.report_url or "",
        model=config.name,
    )
    send_alert(alert, configured_webhook())


def assistant_monitor_step(config: AssistantConfig, settings: Settings, ctx: RunContext) -> dict[str, Any]:
    from ml_platform.embeddings import get_embedder
    from ml_platform.evaluation.assistant import AnswerCache, answer_all, retrieve, score
    from ml_platform.llm.base import adapter_folder, load_with_adapters, resolve_base_model
    from ml_platform.monitoring.drift import embedding_drift
    from ml_platform.retrieval.index import open_live_retriever

    registry, lake, reports = ModelRegistry(settings), Lake.at(settings.lake_uri), Reports.at(settings.reports_uri)
    champion = registry.alias_version(config.registered_model, CHAMPION)
    if champion is None:
        log.info("%s has no champion yet: nothing to monitor in production", config.registered_model)
        return {"day": ctx.day.isoformat(), "verdict": "no_champion"}
    chats = lake.read(config.tables.chats, ctx.day)
    sample, blocked = _sample_questions(chats, config.monitoring.chat_sample)
    retrieved = retrieve(sample, open_live_retriever(settings.vector_store_uri), config)
    adapters = {"champion": adapter_folder(registry, config.registered_model, champion)}
    assistant, tokenizer = load_with_adapters(resolve_base_model(config, settings), adapters)
    # Chats are new every day: nothing to reuse, so no cache store.
    cache = AnswerCache(None, "", "")
    answers = answer_all(assistant, tokenizer, sample, retrieved, config, cache, f"champion v{champion}")
    metrics, intervals = score(answers, config, labelled=False)
    trained_on = as_date(registry.version(config.registered_model, champion).tags["partition_date"])
    reference = lake.read(config.tables.eval, trained_on)["question"].tolist()
    embedder = get_embedder()
    drift = embedding_drift(
        embedder.embed(reference),
        embedder.embed(chats["question"].tolist()),
        config.monitoring.embedding_drift_threshold,
    )
    url = reports.url(names.MONITORING, ctx.day, f"{names.ASSISTANT_MONITORING}.json")
    breaches = _breaches(config, metrics, drift, url)
    for breach in breaches:
        _alert(breach, config, ctx)
    record = {
        "champion_version": champion,
        "day": ctx.day.isoformat(),
        "chats": len(chats),
        "answered": len(sample),
        "blocked_injections": blocked,
        "metrics": metrics,
        "intervals": intervals,
        "reference_questions_from": trained_on.isoformat(),
        "embedding_drift": {
            "method": drift.method,
            "score": drift.score,
            "threshold": drift.threshold,
            "drifted": drift.drifted,
        },
        "alerts": [{"gate": b.gate, "message": str(b)} for b in breaches],
    }
    if drift.html:
        reports.write_bytes(names.MONITORING, ctx.day, "assistant_question_drift.html", drift.html.encode())
    reports.write_json(names.MONITORING, ctx.day, names.ASSISTANT_MONITORING, record)
    return record


# -- drift timeline --------------------------------------------------------------------------------------
def timeline_records(settings: Settings, models: list[str], start: date, end: date) -> list[dict[str, Any]]:
    reports = Reports.at(settings.reports_uri)
    records = []
    for day in pd.date_range(start, end, freq="D").date:
        for model in models:
            record = reports.find_json(names.MONITORING, day, names.drift_record(model))
            if record is not None:
                records.append(record)
    return records


def write_timeline(settings: Settings, models: list[str], start: date, end: date, onset: date | None) -> dict:
    """Per-day drift table and PNG over a date range (e.g. after a backfill), stored under the end date."""
    from ml_platform.monitoring.timeline import alarm_summary, drift_timeline, timeline_plot

    table = drift_timeline(timeline_records(settings, models, start, end))
    reports = Reports.at(settings.reports_uri)
    png_url = reports.write_bytes(names.MONITORING, end, "drift_timeline.png", timeline_plot(table, onset))
    csv_url = reports.write_bytes(names.MONITORING, end, "drift_timeline.csv", table.to_csv(index=False).encode())
    alarms = alarm_summary(table, onset)
    record = {
        "start": str(start),
        "end": str(end),
        "onset": str(onset) if onset else None,
        "alarms": alarms,
        "plot": png_url,
        "table": csv_url,
    }
    reports.write_json(names.MONITORING, end, names.DRIFT_TIMELINE, record)
    return {"table": table, "alarms": alarms, "plot": png_url, "csv": csv_url}
