"""model_monitoring steps: drift of each tabular champion, and production monitoring of the assistant.

The reference is the champion's own training data (the partitions recorded in its MLflow run), so it moves
when the champion changes. Results land under REPORTS_URI/model_monitoring/<D>/ (Evidently's HTML and a JSON
summary) and beside the champion in MLflow; the training pipelines' drift gate reads the same JSON.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

import pandas as pd

from ml_platform.datasets.schema import load_schema
from ml_platform.lake import Lake
from ml_platform.registry import CHAMPION, ModelRegistry
from ml_platform.reports import Reports
from ml_platform.run_context import RunContext
from ml_platform.settings import Settings
from ml_platform.tabular.config import ModelConfig

log = logging.getLogger(__name__)
PIPELINE = "model_monitoring"


def drift_record_name(model: str) -> str:
    return f"{model}_drift"


def latest_drift(settings: Settings, model: str, day: date) -> dict[str, Any] | None:
    """The drift verdict of `model` for `day`, as the promotion gate sees it (None when not monitored)."""
    try:
        return Reports.at(settings.reports_uri).read_json(PIPELINE, day, drift_record_name(model))
    except KeyError:
        return None


def _champion_reference(registry: ModelRegistry, config: ModelConfig, version: str) -> tuple[list[str], Any]:
    version_info = registry.version(config.registered_model, version)
    partitions = registry.mlflow.artifacts.load_dict(f"runs:/{version_info.run_id}/data/partitions.json")
    days = [p["dt"] for p in partitions["partitions"] if p["role"] in ("train", "early_stopping")]
    return days, version_info


def tabular_monitor_step(config: ModelConfig, settings: Settings, ctx: RunContext) -> dict[str, Any]:
    import mlflow.xgboost

    from ml_platform.monitoring.drift import tabular_drift
    from ml_platform.tabular.features import raw_feature_columns, score

    registry, lake, reports = ModelRegistry(settings), Lake.at(settings.lake_uri), Reports.at(settings.reports_uri)
    champion = registry.alias_version(config.registered_model, CHAMPION)
    if champion is None:
        log.info("%s has no champion yet: nothing to monitor", config.registered_model)
        return {"model": config.name, "verdict": "no_champion"}
    days, version_info = _champion_reference(registry, config, champion)
    reference = pd.concat([lake.read(config.dataset, d) for d in days], ignore_index=True)
    if len(reference) > config.max_reference_rows:
        reference = reference.sample(n=config.max_reference_rows, random_state=0).reset_index(drop=True)
    current = lake.read(config.dataset, ctx.day)
    model = mlflow.xgboost.load_model(f"models:/{config.registered_model}/{champion}")
    schema = load_schema(config.dataset)
    result = tabular_drift(
        config.name,
        ctx.day,
        reference,
        current,
        schema,
        raw_feature_columns(schema, config),
        score(model, reference, schema, config) if config.prediction_drift else None,
        score(model, current, schema, config) if config.prediction_drift else None,
        share_threshold=config.drift_share_threshold,
        reference_days=days,
    )
    html_url = reports.write_bytes(PIPELINE, ctx.day, f"{config.name}_drift.html", result.html.encode())
    record = result.as_dict() | {
        "champion_version": champion,
        "html_report": html_url,
        "drifted": result.verdict == "drifted",
        "run_type": ctx.run_type,
    }
    record["summary"] = {
        "section": "Drift (champion vs its training data)",
        "key": config.name,
        "order": 1,
        "row": {
            "model": config.name,
            "champion": champion,
            "verdict": result.verdict,
            "share_drifted": round(result.share_drifted, 3),
            "drifted_features": ", ".join(result.drifted_features[:4]) or "-",
            "prediction_drift": None if result.prediction_drift is None else round(result.prediction_drift.score, 4),
            "live_roc_auc": (result.live_quality or {}).get("roc_auc"),
        },
    }
    reports.write_json(PIPELINE, ctx.day, drift_record_name(config.name), record)
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
    return {k: v for k, v in record.items() if k not in ("summary",)}


def timeline_records(settings: Settings, models: list[str], start: date, end: date) -> list[dict[str, Any]]:
    reports = Reports.at(settings.reports_uri)
    records = []
    for day in pd.date_range(start, end, freq="D").date:
        for model in models:
            try:
                records.append(reports.read_json(PIPELINE, day, drift_record_name(model)))
            except KeyError:
                continue
    return records


def write_timeline(settings: Settings, models: list[str], start: date, end: date, onset: date | None) -> dict:
    """Per-day drift table and PNG over a date range (e.g. after a backfill), stored under the end date."""
    from ml_platform.monitoring.timeline import alarm_summary, drift_timeline, timeline_plot

    table = drift_timeline(timeline_records(settings, models, start, end))
    reports = Reports.at(settings.reports_uri)
    png_url = reports.write_bytes(PIPELINE, end, "drift_timeline.png", timeline_plot(table, onset))
    csv_url = reports.write_bytes(PIPELINE, end, "drift_timeline.csv", table.to_csv(index=False).encode())
    alarms = alarm_summary(table, onset)
    rows = [
        {
            "model": model,
            "days": a["days_checked"],
            "drifted_after_onset": a["drifted_days_after_onset"],
            "first_detection": a["first_detection_day"],
            "delay_days": a["detection_delay_days"],
            "false_alarms": a["false_alarms"],
            "plot": png_url,
        }
        for model, a in alarms.items()
    ]
    reports.write_json(
        PIPELINE,
        end,
        "drift_timeline",
        {
            "start": str(start),
            "end": str(end),
            "onset": str(onset),
            "alarms": alarms,
            "plot": png_url,
            "table": csv_url,
            "summary": {"section": f"Drift timeline {start} .. {end} (onset {onset or 'none planted'})", "rows": rows},
        },
    )
    return {"table": table, "alarms": alarms, "plot": png_url, "csv": csv_url}
