"""The steps of a tabular model's nightly run, one function per Airflow task: validate, train, decide (and the
manual rollback).

Each step is keyed by the run's date D and leaves plain records under REPORTS_URI/<model>_training/<D>/, so a
rerun replaces its own records and the run summary can be rebuilt from storage. Steps hand each other only
small JSON records (Airflow XComs), never data.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
from datetime import date, timedelta
from typing import Any

from ml_platform import names
from ml_platform.config.datasets import load_schema
from ml_platform.config.tabular import ModelConfig
from ml_platform.dates import as_date
from ml_platform.lake import Lake
from ml_platform.pipelines.screening import (
    quarantine_failed,
    quarantined_by_run,
    quarantined_meanwhile,
    require_valid,
    screen_history,
)
from ml_platform.policy import Decision
from ml_platform.provenance import RECORD_ARTIFACT, build_record
from ml_platform.registry import (
    ModelRegistry,
    record_decision,
    run_tags,
    settle_promotion,
    train_or_reuse,
)
from ml_platform.reports import Reports
from ml_platform.run_context import RunContext
from ml_platform.settings import Settings

log = logging.getLogger(__name__)


# -- validate ----------------------------------------------------------------------------------------------
def validate_step(config: ModelConfig, settings: Settings, ctx: RunContext) -> dict[str, Any]:
    """Validate the day's partition; a failure quarantines it and raises before anything is trained."""
    from ml_platform.validation import validate_and_remember

    lake, reports = Lake.at(settings.lake_uri), Reports.at(settings.reports_uri)
    with quarantined_meanwhile(lake, config.dataset, ctx.day):  # by model_monitoring, after the sensor saw it
        frame, partition = lake.load(config.dataset, ctx.day)
    outcome = validate_and_remember(lake, load_schema(config.dataset), frame, partition)
    reports.write_json(config.pipeline, ctx.day, names.VALIDATION_RESULT, outcome.result_json)
    record = outcome.as_record() | {"model": config.name, "rows": len(frame), "content_hash": partition.content_hash}
    if outcome.success:
        html_url = reports.write_bytes(config.pipeline, ctx.day, "validation.html", outcome.html.encode())
        reports.write_json(config.pipeline, ctx.day, names.VALIDATION, record | {"html_report": html_url})
        log.info("%s dt=%s passed %d expectations (%s)", config.dataset, ctx.day, outcome.evaluated, html_url)
        return record | {"html_report": html_url}
    folder, html_url = quarantine_failed(settings, outcome, partition, config.pipeline, ctx)
    reports.write_json(
        config.pipeline, ctx.day, names.VALIDATION, record | {"html_report": html_url, "quarantined_to": folder}
    )
    raise outcome.failure(report_url=html_url, quarantined_to=folder)


# -- train ---------------------------------------------------------------------------------------------------
def training_key(config: ModelConfig, partitions: list[dict[str, Any]]) -> str:
    """Same config and same data -> same key: a rerun of a date reuses its run instead of retraining."""
    material = {
        "config": config.training_fingerprint(),
        "data": [(p["dt"], p["role"], p["content_hash"]) for p in partitions],
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()[:16]


def train_step(config: ModelConfig, settings: Settings, ctx: RunContext) -> dict[str, Any]:
    from ml_platform.tabular.training import load_training_data

    lake = Lake.at(settings.lake_uri)
    require_valid(settings, config.dataset, ctx.day, config.pipeline, ctx)
    first, last = config.window.history(ctx.day)
    screened = screen_history(settings, config.dataset, lake.dates(config.dataset, first, last), config.pipeline, ctx)
    in_place = [d for d in screened if d.get("left_in_place")]
    window = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    left_out = quarantined_by_run(lake, config.dataset, window, ctx.airflow_run_id) + in_place
    data = load_training_data(lake, config, ctx.day, skip={as_date(d["dt"]) for d in in_place})
    key = training_key(config, data.partitions)
    registry = ModelRegistry(settings)
    record = train_or_reuse(
        registry,
        config.registered_model,
        key,
        train=lambda: _train_and_log(config, settings, ctx, data, key, registry, lake),
        reuse=_reused_record,
    )
    record |= {"model": config.name, "quarantined_history": left_out}
    Reports.at(settings.reports_uri).write_json(config.pipeline, ctx.day, names.TRAINING, record)
    return record


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
        "model_sha256": run.data.params.get("model_sha256"),
    }


def _train_and_log(
    config: ModelConfig, settings: Settings, ctx: RunContext, data, key: str, registry: ModelRegistry, lake: Lake
) -> dict[str, Any]:
    from mlflow.models import infer_signature

    from ml_platform.tabular.training import train_and_evaluate

    result = train_and_evaluate(data, config)
    oracle = lake.metadata(config.dataset, ctx.day).get("oracle_roc_auc")
    ratio = round(result.metrics["roc_auc"] / oracle, 4) if oracle else None
    mlflow = registry.mlflow
    tags = run_tags(ctx, key) | {"config_fingerprint": config.training_fingerprint(), "model": config.name}
    with mlflow.start_run(
        experiment_id=registry.experiment_id(config.registered_model),
        run_name=f"{config.name}-{ctx.day}-{ctx.run_type}",
        tags=tags,
    ) as run:
        mlflow.log_params(_training_params(config, data, result))
        mlflow.log_metrics({f"test_{k}": v for k, v in result.metrics.items()})
        mlflow.log_metrics({f"valid_{k}": v for k, v in result.valid_metrics.items()})
        if oracle:
            mlflow.log_metrics({"oracle_roc_auc": oracle, "auc_vs_best": ratio})
        mlflow.log_dict({"partitions": data.partitions}, "data/partitions.json")
        mlflow.log_dict(provenance_record(config, settings, ctx, data, result), RECORD_ARTIFACT)
        mlflow.log_dict({"feature_names": result.feature_names}, "data/features.json")
        validation = Reports.at(settings.reports_uri).find_json(config.pipeline, ctx.day, names.VALIDATION_RESULT)
        if validation is not None:
            mlflow.log_dict(validation, "validation/result.json")
        _log_plots(mlflow, config, settings, ctx.day, result)
        example = result.x_test.head(5)
        info = mlflow.xgboost.log_model(
            result.model,
            name="model",
            signature=infer_signature(example, result.model.predict_proba(example)[:, 1]),
            input_example=example,
            registered_model_name=config.registered_model,
        )
    version = str(info.registered_model_version)
    registry.tag_version(config.registered_model, version, run_tags(ctx, key))
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
        "model_sha256": result.model_sha256,
    }


def provenance_record(config: ModelConfig, settings: Settings, ctx: RunContext, data, result) -> dict[str, Any]:
    """Everything `ml-platform reproduce` needs to rebuild this version and explain a difference."""
    return build_record(
        kind="tabular",
        model=config.name,
        date=ctx.day.isoformat(),
        config=config.model_dump(mode="json"),
        config_hash=config.training_fingerprint(),
        partitions=data.partitions,
        seeds={"xgboost": config.model.seed, "sampling": config.model.seed},
        model_sha256=result.model_sha256,
        root=settings.project_root,
    )


def _training_params(config: ModelConfig, data, result) -> dict[str, Any]:
    return {
        **{f"hp_{k}": v for k, v in config.model.hyperparameters.items()},
        "train_days": config.window.train_days,
        "train_rows": len(data.train),
        "valid_date": data.valid_date.isoformat(),
        "eval_date": data.test_date.isoformat(),
        "features": len(result.feature_names),
        "best_iteration": result.best_iteration,
        "threshold": round(result.threshold, 6),
        "imbalance": config.model.imbalance,
        "sample_rows_per_day": config.window.sample_rows_per_day,
        "model_sha256": result.model_sha256,
    }


def _log_plots(mlflow, config: ModelConfig, settings: Settings, day: date, result) -> None:
    """ROC, PR, calibration and importance PNGs: beside the run's records and in the MLflow run."""
    from PIL import Image

    from ml_platform.tabular.plots import evaluation_plots

    reports = Reports.at(settings.reports_uri)
    importance = {k: float(v) for k, v in result.model.get_booster().get_score(importance_type="gain").items()}
    for name, png in evaluation_plots(config.name, result.y_test, result.p_test, importance).items():
        reports.write_bytes(config.pipeline, day, name, png)
        mlflow.log_image(Image.open(io.BytesIO(png)), f"plots/{name}")


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


def _drift_fact(settings: Settings, config: ModelConfig, day: date) -> dict[str, Any] | None:
    """The day's drift verdict for this model, as model_monitoring recorded it (None when not monitored)."""
    verdict = Reports.at(settings.reports_uri).find_json(names.MONITORING, day, names.drift_record(config.name))
    return verdict and {k: verdict.get(k) for k in ("drifted", "share_drifted", "drifted_features", "champion_version")}


def decide_step(
    config: ModelConfig, settings: Settings, ctx: RunContext, training: dict[str, Any], validation: dict[str, Any]
) -> dict[str, Any]:
    registry, lake = ModelRegistry(settings), Lake.at(settings.lake_uri)
    model, version = config.registered_model, training["version"]
    champion = registry.champion_seen_by(model, version, ctx.airflow_run_id)
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
            "drift": _drift_fact(settings, config, ctx.day),
        },
    )
    return decision.as_dict()


def rollback_step(config: ModelConfig, settings: Settings, ctx: RunContext) -> dict[str, Any]:
    """champion back to previous, with the run's written reason recorded like any other decision (under
    model_rollback/<date>/)."""
    reason = ctx.written_reason("reason", "a rollback")
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
        try_number=ctx.try_number,
    )
    url = record_decision(decision, settings, names.ROLLBACK, name=names.rollback_record(config.name))
    return decision.as_dict() | {"decision_record": url}
