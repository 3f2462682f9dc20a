"""Production monitoring of the support assistant on the day's chat logs.

The champion answers a sample of the day's (screened) chat questions through the live RAG path; the same
hallucination detector as in evaluation scores the answers; latency, tokens and cost are measured; and the
day's questions are compared with the champion's evaluation questions for embedding drift. Thresholds in
the assistant's config raise an alert through the platform's one alert path.
"""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from ml_platform.alerts import Alert, configured_webhook, send_alert
from ml_platform.lake import Lake, as_date
from ml_platform.llm.config import AssistantConfig
from ml_platform.registry import CHAMPION, ModelRegistry
from ml_platform.reports import Reports
from ml_platform.run_context import RunContext
from ml_platform.settings import Settings

log = logging.getLogger(__name__)
PIPELINE = "model_monitoring"


def _sample_questions(chats: pd.DataFrame, n: int) -> tuple[pd.DataFrame, int]:
    """Screened chat questions (PII redacted, injections set aside and counted) and a fixed-seed sample."""
    from ml_platform.guardrails import screen_frame

    screened, _ = screen_frame(chats, ["question"])
    clean = screened[~screened["blocked"]]
    sample = clean.sample(n=min(n, len(clean)), random_state=0) if len(clean) else clean
    return sample.assign(question_id=sample["chat_id"], gold_answer="", article_id=None, answerable=True), int(
        screened["blocked"].sum()
    )


def _alerts(config: AssistantConfig, metrics: dict[str, Any], drift, ctx: RunContext, url: str) -> list[str]:
    breaches = []
    if metrics["hallucination_rate"] > config.hallucination_alert:
        breaches.append(f"hallucination rate {metrics['hallucination_rate']:.2f} > {config.hallucination_alert}")
    if metrics["latency_p95_s"] > config.latency_p95_alert_s:
        breaches.append(f"latency p95 {metrics['latency_p95_s']:.2f}s > latency budget {config.latency_p95_alert_s}s")
    if config.embedding_drift_alert and drift.drifted:
        breaches.append(f"question embedding drift ({drift.method}: {drift.score:.3f} > {drift.threshold:.3f})")
    for breach in breaches:
        send_alert(
            Alert(
                title=f"support assistant in production, {ctx.day}: {breach}",
                dag_id=ctx.dag_id or PIPELINE,
                task_id="monitor_assistant",
                run_id=ctx.airflow_run_id,
                date=ctx.day.isoformat(),
                model="support_assistant",
                failed_gate="drift" if "drift" in breach else "llm_budget",
                message=breach,
                report_url=url,
            ),
            configured_webhook(),
        )
    return breaches


def assistant_monitor_step(config: AssistantConfig, settings: Settings, ctx: RunContext) -> dict[str, Any]:
    from peft import PeftModel

    from ml_platform.llm.base import load_base, resolve_base_model
    from ml_platform.llm.evaluation import answer_all, retrieve_contexts, score
    from ml_platform.llm.pipeline import adapter_of
    from ml_platform.monitoring.drift import embedding_drift
    from ml_platform.retrieval.embeddings import get_embedder
    from ml_platform.retrieval.index import open_live_retriever

    registry, lake, reports = ModelRegistry(settings), Lake.at(settings.lake_uri), Reports.at(settings.reports_uri)
    champion = registry.alias_version(config.registered_model, CHAMPION)
    if champion is None:
        log.info("support-assistant has no champion yet: nothing to monitor in production")
        return {"verdict": "no_champion"}
    chats = lake.read("support_chats", ctx.day)
    sample, blocked = _sample_questions(chats, config.chat_sample)
    contexts = retrieve_contexts(sample, open_live_retriever(settings.vector_store_uri), config)
    model, tokenizer = load_base(resolve_base_model(config, settings))
    assistant = PeftModel.from_pretrained(model, adapter_of(registry, config, champion)).eval()
    metrics = score(answer_all(assistant, tokenizer, sample, contexts, config, f"champion v{champion}"), config)
    trained_on = as_date(registry.version(config.registered_model, champion).tags["partition_date"])
    reference = lake.read("support_eval", trained_on)["question"].tolist()
    embedder = get_embedder()
    drift = embedding_drift(embedder.embed(reference), embedder.embed(chats["question"].tolist()))
    url = reports.url(PIPELINE, ctx.day, "assistant.json")
    breaches = _alerts(config, metrics, drift, ctx, url)
    record = {
        "champion_version": champion,
        "day": ctx.day.isoformat(),
        "chats": len(chats),
        "answered": len(sample),
        "blocked_injections": blocked,
        "metrics": metrics,
        "reference_questions_from": trained_on.isoformat(),
        "embedding_drift": {
            "method": drift.method,
            "score": drift.score,
            "threshold": drift.threshold,
            "drifted": drift.drifted,
        },
        "alerts": breaches,
        "summary": {
            "section": "Support assistant in production",
            "rows": [
                {
                    "date": ctx.day.isoformat(),
                    "champion": champion,
                    "chats": len(chats),
                    "answered": len(sample),
                    "hallucination_rate": metrics["hallucination_rate"],
                    "latency_p95_s": metrics["latency_p95_s"],
                    "tokens_in": metrics["tokens_in"],
                    "tokens_out": metrics["tokens_out"],
                    "cost_per_1k_usd": metrics["cost_per_1k_answers_usd"],
                    "question_drift": round(drift.score, 4),
                    "alerts": "; ".join(breaches) or "-",
                }
            ],
        },
    }
    if drift.html:
        reports.write_bytes(PIPELINE, ctx.day, "assistant_question_drift.html", drift.html.encode())
    reports.write_json(PIPELINE, ctx.day, "assistant", record)
    return {k: v for k, v in record.items() if k != "summary"}
