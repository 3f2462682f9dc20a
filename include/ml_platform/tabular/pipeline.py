"""The steps of a tabular model's nightly run, one function per Airflow task: validate, train, decide.

Each step is keyed by the run's date D and leaves its record under REPORTS_URI/<model>_training/<D>/, so a
rerun replaces its own records and the run summary can be rebuilt from storage. Steps hand each other only
small JSON records (Airflow XComs), never data.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import date
from typing import Any

from ml_platform.datasets.schema import load_schema
from ml_platform.lake import Lake
from ml_platform.policy import Decision
from ml_platform.registry import CHAMPION, ModelRegistry, record_decision, settle_promotion, stale_reason
from ml_platform.reports import Reports
from ml_platform.run_context import RunContext
from ml_platform.settings import Settings
from ml_platform.tabular.config import ModelConfig

log = logging.getLogger(__name__)


def _summary(config: ModelConfig, order: int, row: dict[str, Any]) -> dict[str, Any]:
    return {"section": "Models", "key": config.name, "order": order, "row": row}


# -- validate ----------------------------------------------------------------------------------------------
def validate_step(config: ModelConfig, settings: Settings, ctx: RunContext) -> dict[str, Any]:
    """Validate the day's partition; a failure quarantines it and raises before anything is trained."""
    from ml_platform.validation import ValidationFailed, validate_partition

    lake, reports = Lake.at(settings.lake_uri), Reports.at(settings.reports_uri)
    frame = lake.read(config.dataset, ctx.day)
    outcome = validate_partition(frame, load_schema(config.dataset), ctx.day)
    html_url = reports.write_bytes(config.pipeline, ctx.day, "validation.html", outcome.html.encode())
    reports.write_json(config.pipeline, ctx.day, "validation_result", outcome.result_json)
    record = outcome.as_record() | {"html_report": html_url}
    verdict = "passed" if outcome.success else f"FAILED ({len(outcome.failed)} of {outcome.evaluated})"
    record["summary"] = _summary(
        config, 1, {"model": config.name, "date": ctx.day.isoformat(), "rows": len(frame), "validation": verdict}
    )
    if not outcome.success:
        folder = lake.quarantine(
            config.dataset,
            ctx.day,
            {
                "reason": "validation failed",
                "pipeline": config.pipeline,
                "airflow_run_id": ctx.airflow_run_id,
                "failed": [f.expectation + (f" on {f.column}" if f.column else "") for f in outcome.failed],
                "validation_report": html_url,
            },
        )
        record["quarantined_to"] = folder
        record["summary"]["row"]["decision"] = f"stopped before training; partition quarantined to {folder}"
        reports.write_json(config.pipeline, ctx.day, "validation", record)
        log.error(outcome.error_message())
        raise ValidationFailed(outcome)
    reports.write_json(config.pipeline, ctx.day, "validation", record)
    log.info("%s dt=%s passed %d expectations (%s)", config.dataset, ctx.day, outcome.evaluated, html_url)
    return {k: v for k, v in record.items() if k != "summary"}


# -- train ---------------------------------------------------------------------------------------------------
def training_key(config: ModelConfig, partitions: list[dict[str, Any]]) -> str:
    """Same config and same data -> same key: a rerun of a date reuses its run instead of retraining."""
    material = {"config": config.fingerprint(), "data": [(p["dt"], p["role"], p["content_hash"]) for p in partitions]}
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()[:16]


def train_step(config: ModelConfig, settings: Settings, ctx: RunContext) -> dict[str, Any]:
    from ml_platform.tabular.training import load_training_data

    lake = Lake.at(settings.lake_uri)
    data = load_training_data(lake, config, ctx.day)
    key = training_key(config, data.partitions)
    registry = ModelRegistry(settings)
    existing = registry.find_run(config.registered_model, {"training_key": key})
    if existing is not None and (version := registry.version_of_run(config.registered_model, existing.info.run_id)):
        log.info(
            "%s: same config and data as run %s (version %s); reusing it instead of retraining",
            config.name,
            existing.info.run_id,
            version,
        )
        record = _reused_record(existing, version)
    else:
        record = _train_and_log(config, settings, ctx, data, key, registry, lake)
    record["summary"] = _summary(
        config,
        2,
        {
            "train_rows": record["train_rows"],
            "roc_auc": record["metrics"]["roc_auc"],
            "pr_auc": record["metrics"]["pr_auc"],
            "vs_best_auc": record["auc_vs_best"],
            "version": record["version"] + (" (reused)" if record["reused"] else ""),
        },
    )
    Reports.at(settings.reports_uri).write_json(config.pipeline, ctx.day, "training", record)
    return {k: v for k, v in record.items() if k != "summary"}


def _reused_record(run: Any, version: str) -> dict[str, Any]:
    metrics = {k.removeprefix("test_"): v for k, v in run.data.metrics.items() if k.startswith("test_")}
    return {
        "run_id": run.info.run_id,
        "version": version,
        "metrics": metrics,
        "reused": True,
        "train_rows": int(run.data.params.get("train_rows", 0)),
        "oracle_roc_auc": run.data.metrics.get("oracle_roc_auc"),
        "auc_vs_best": run.data.metrics.get("auc_vs_best"),
        "threshold": float(run.data.params.get("threshold", 0.5)),
        "training_key": run.data.tags.get("training_key"),
    }


def _train_and_log(
    config: ModelConfig, settings: Settings, ctx: RunContext, data, key: str, registry: ModelRegistry, lake: Lake
) -> dict[str, Any]:
    from mlflow.models import infer_signature

    from ml_platform.tabular.plots import evaluation_plots
    from ml_platform.tabular.training import train_and_evaluate

    result = train_and_evaluate(data, config)
    oracle = lake.metadata(config.dataset, ctx.day).get("oracle_roc_auc")
    ratio = round(result.metrics["roc_auc"] / oracle, 4) if oracle else None
    mlflow = registry.mlflow
    tags = {
        "partition_date": ctx.day.isoformat(),
        "run_type": ctx.run_type,
        "airflow_run_id": ctx.airflow_run_id,
        "dag_id": ctx.dag_id,
        "training_key": key,
        "config_fingerprint": config.fingerprint(),
        "model": config.name,
    }
    with mlflow.start_run(
        experiment_id=registry.experiment_id(config.registered_model),
        run_name=f"{config.name}-{ctx.day}-{ctx.run_type}",
        tags=tags,
    ) as run:
        mlflow.log_params(
            {
                **{f"hp_{k}": v for k, v in config.hyperparameters.items()},
                "train_days": config.train_days,
                "train_rows": len(data.train),
                "valid_date": data.valid_date.isoformat(),
                "eval_date": ctx.day.isoformat(),
                "features": len(result.feature_names),
                "best_iteration": result.best_iteration,
                "threshold": round(result.threshold, 6),
                "imbalance": config.imbalance,
                "sample_rows_per_day": config.sample_rows_per_day,
            }
        )
        mlflow.log_metrics({f"test_{k}": v for k, v in result.metrics.items()})
        mlflow.log_metrics({f"valid_{k}": v for k, v in result.valid_metrics.items()})
        if oracle:
            mlflow.log_metrics({"oracle_roc_auc": oracle, "auc_vs_best": ratio})
        mlflow.log_dict({"partitions": data.partitions}, "data/partitions.json")
        mlflow.log_dict({"feature_names": result.feature_names}, "data/features.json")
        validation = _stored(settings, config, ctx.day, "validation_result.json")
        if validation is not None:
            mlflow.log_dict(validation, "validation/result.json")
        importance = {k: float(v) for k, v in result.model.get_booster().get_score(importance_type="gain").items()}
        for name, png in evaluation_plots(config.name, result.y_test, result.p_test, importance).items():
            Reports.at(settings.reports_uri).write_bytes(config.pipeline, ctx.day, name, png)
            mlflow.log_image(_image(png), f"plots/{name}")
        example = result.x_test.head(5)
        info = mlflow.xgboost.log_model(
            result.model,
            name="model",
            signature=infer_signature(example, result.model.predict_proba(example)[:, 1]),
            input_example=example,
            registered_model_name=config.registered_model,
        )
    version = str(info.registered_model_version)
    for tag, value in (("partition_date", ctx.day.isoformat()), ("run_type", ctx.run_type), ("training_key", key)):
        registry.client.set_model_version_tag(config.registered_model, version, tag, value)
    log.info(
        "%s: registered %s version %s (run %s) with %s",
        config.name,
        config.registered_model,
        version,
        run.info.run_id,
        ", ".join(f"{k}={v:.4f}" for k, v in result.metrics.items()),
    )
    return {
        "run_id": run.info.run_id,
        "version": version,
        "metrics": result.metrics,
        "reused": False,
        "train_rows": len(data.train),
        "oracle_roc_auc": oracle,
        "auc_vs_best": ratio,
        "threshold": result.threshold,
        "training_key": key,
    }


def _stored(settings: Settings, config: ModelConfig, day: date, name: str) -> dict[str, Any] | None:
    try:
        return json.loads(Reports.at(settings.reports_uri).store.get(Reports.key(config.pipeline, day, name)))
    except KeyError:
        return None


def _image(png: bytes):
    import io

    from PIL import Image

    return Image.open(io.BytesIO(png))


# -- decide ----------------------------------------------------------------------------------------------------
def _champion_metrics(config: ModelConfig, registry: ModelRegistry, version: str, lake: Lake, day: date) -> dict:
    """The champion scored on the challenger's evaluation day, with the champion's own threshold."""
    import mlflow.xgboost

    from ml_platform.tabular.features import score
    from ml_platform.tabular.metrics import evaluate

    schema = load_schema(config.dataset)
    model = mlflow.xgboost.load_model(f"models:/{config.registered_model}/{version}")
    frame = lake.read(config.dataset, day)
    run = registry.client.get_run(registry.version(config.registered_model, version).run_id)
    threshold = float(run.data.params.get("threshold", 0.5))
    return evaluate(schema.label_binary(frame).to_numpy(), score(model, frame, schema, config), threshold, config)


def _drift(settings: Settings, config: ModelConfig, ctx: RunContext) -> dict[str, Any] | None:
    """The day's drift verdict for this model (from model_monitoring), for the promotion's drift gate."""
    from ml_platform.monitoring.pipeline import latest_drift

    verdict = latest_drift(settings, config.name, ctx.day)
    return verdict and {k: verdict.get(k) for k in ("drifted", "share_drifted", "drifted_features", "champion_version")}


def decide_step(
    config: ModelConfig,
    settings: Settings,
    ctx: RunContext,
    training: dict[str, Any],
    validation: dict[str, Any],
    force_reason: str | None = None,
    facts: dict[str, Any] | None = None,
) -> dict[str, Any]:
    registry, lake = ModelRegistry(settings), Lake.at(settings.lake_uri)
    model, version = config.registered_model, training["version"]
    champion = registry.alias_version(model, CHAMPION)
    champion_metrics = None
    if champion is not None and champion != version:
        champion_metrics = _champion_metrics(config, registry, champion, lake, ctx.day)
    decision = settle_promotion(
        registry,
        model=config.name,
        registered_model=model,
        pipeline=config.pipeline,
        ctx=ctx,
        version=version,
        run_id=training["run_id"],
        policy=config.promotion,
        challenger_metrics=training["metrics"],
        champion_version=champion,
        champion_metrics=champion_metrics,
        facts={
            "validation_passed": validation.get("success", False),
            "drift": _drift(settings, config, ctx),
            **(facts or {}),
        },
        force_reason=force_reason,
        stale_reason=stale_reason(registry, model, champion, ctx.day),
    )
    return decision.as_dict()


def rollback_step(config: ModelConfig, settings: Settings, ctx: RunContext, reason: str) -> dict[str, Any]:
    """champion back to previous, with a written reason recorded like any other decision."""
    if not reason or not reason.strip():
        raise ValueError("a rollback needs a written reason")
    registry = ModelRegistry(settings)
    demoted, restored = registry.rollback(config.registered_model)
    registry.client.set_model_version_tag(config.registered_model, demoted, "rolled_back", f"{ctx.day}: {reason}")
    decision = Decision(
        model=config.name,
        registered_model=config.registered_model,
        date=ctx.day.isoformat(),
        run_type=ctx.run_type,
        airflow_run_id=ctx.airflow_run_id,
        challenger_version=None,
        champion_before=demoted,
        champion_after=restored,
        challenger_metrics={},
        champion_metrics=None,
        gates=[],
        verdict="rollback",
        reasons=[f"manual rollback: {reason}"],
        forced=True,
        force_reason=reason,
        aliases_moved=True,
    )
    url = record_decision(decision, settings, config.pipeline, name="rollback")
    return decision.as_dict() | {"decision_record": url}
