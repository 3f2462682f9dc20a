"""The facts behind each page of the view, read from REPORTS_URI's records and the MLflow registry.

Records are found by listing a pipeline's folder once and picking keys by pattern, so a page reads one
listing and the records it shows, never a key per day it might have: a year of daily records stays a
listing and a few hundred small reads. Decision attempts are immutable (appended, never replaced), so they
are parsed once per process and kept.
"""

from __future__ import annotations

import json
import mimetypes
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal

from ml_platform import names
from ml_platform.config.assistant import load_assistant_config
from ml_platform.config.tabular import load_model_config, model_names
from ml_platform.registry import CHALLENGER, CHAMPION, PREVIOUS, ModelRegistry
from ml_platform.reports import Reports

ALIASES = (CHAMPION, CHALLENGER, PREVIOUS)
# The assistant's rates drawn over dates, each with its 95% interval where the evaluation computed one.
ASSISTANT_TRENDS = ("correctness", "hallucination_rate", "abstention_accuracy")
_DATED = re.compile(r"^(?P<pipeline>[^/]+)/(?P<day>\d{4}-\d{2}-\d{2})/(?P<rest>.+)$")


@dataclass(frozen=True)
class ModelView:
    """A registered model as the view lists it."""

    name: str
    registered_model: str
    pipeline: str  # the folder of its training and decision records
    kind: Literal["tabular", "assistant"]
    primary_metric: str
    key_metrics: tuple[str, ...]  # shown side by side for champion, challenger and previous
    # How its MLflow run names them: tabular runs log `test_<metric>` (the held-out day), the assistant's
    # `challenger_<rate>` (its own evaluation); a name without the prefix (auc_vs_best) is taken as it is.
    run_metric_prefix: str
    drift_record: str  # its record under model_monitoring/<date>/
    can_roll_back: bool  # model_rollback's form offers it


def model_views() -> list[ModelView]:
    views = []
    for name in model_names():
        config = load_model_config(name)
        policy = config.promotion
        metrics = (policy.primary_metric, *policy.guardrails, *policy.floors, "auc_vs_best")
        views.append(
            ModelView(
                name=name,
                registered_model=config.registered_model,
                pipeline=config.pipeline,
                kind="tabular",
                primary_metric=policy.primary_metric,
                key_metrics=tuple(dict.fromkeys(metrics)),
                run_metric_prefix="test_",
                drift_record=names.drift_record(name),
                can_roll_back=True,
            )
        )
    assistant = load_assistant_config()
    policy = assistant.promotion
    views.append(
        ModelView(
            name=assistant.name,
            registered_model=assistant.registered_model,
            pipeline=assistant.pipeline,
            kind="assistant",
            primary_metric=policy.primary_metric,
            key_metrics=(*ASSISTANT_TRENDS, "served_wrong_answer_rate", "served_false_abstention_rate"),
            run_metric_prefix="challenger_",
            drift_record=names.ASSISTANT_MONITORING,
            can_roll_back=False,
        )
    )
    return views


def find_view(model: str) -> ModelView:
    for view in model_views():
        if view.name == model:
            return view
    raise KeyError(f"no model named {model!r}; known: {', '.join(v.name for v in model_views())}")


# -- reading records by listing ------------------------------------------------------------------------------
def dated_keys(reports: Reports, pipeline: str, rest: str | re.Pattern[str]) -> Iterator[tuple[date, str]]:
    """(date, key) of every record of `pipeline` whose path inside its date folder matches `rest`, by date."""
    pattern = rest if isinstance(rest, re.Pattern) else re.compile(re.escape(rest) + "$")
    for key in reports.store.list(f"{pipeline}/"):
        found = _DATED.match(key)
        if found and found["pipeline"] == pipeline and pattern.match(found["rest"]):
            yield date.fromisoformat(found["day"]), key


def dated_records(reports: Reports, pipeline: str, name: str) -> list[tuple[date, dict[str, Any]]]:
    """Every date's `<name>.json` of a pipeline, oldest first (pointers to audit history followed)."""
    return [
        (day, reports.read_json(pipeline, day, name))
        for day, _ in sorted(dated_keys(reports, pipeline, f"{name}.json"))
    ]


# (reports location, key) -> parsed attempt. Attempts are never rewritten, so entries never go stale; a year of
# daily decisions of three models is about a thousand small dicts.
_ATTEMPTS: dict[tuple[str, str], dict[str, Any]] = {}


def _attempts(reports: Reports, pipeline: str, record_name: str) -> list[dict[str, Any]]:
    pattern = re.compile(rf"history/{re.escape(record_name)}/[^/]+\.json$")
    location = reports.store.url("")  # a path resolve on local disk: once per listing, not per attempt
    found = []
    for _, key in dated_keys(reports, pipeline, pattern):
        if (location, key) not in _ATTEMPTS:
            _ATTEMPTS[(location, key)] = json.loads(reports.store.get(key)) | {"record_key": key}
        found.append(_ATTEMPTS[(location, key)])
    return found


# -- decisions -------------------------------------------------------------------------------------------------
def decisions(reports: Reports, model: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
    """Every promotion decision and rollback (every attempt), newest first; `model` keeps one model's."""
    views = [find_view(model)] if model else model_views()
    rows = []
    for view in views:
        records = _attempts(reports, view.pipeline, names.DECISION)
        if view.can_roll_back:
            records += _attempts(reports, names.ROLLBACK, names.rollback_record(view.name))
        rows += [_decision_row(view, record) for record in records if record.get("model") == view.name]
    rows.sort(key=lambda row: (row["recorded_at"], row["date"]), reverse=True)
    return rows[:limit] if limit else rows


def _decision_row(view: ModelView, record: dict[str, Any]) -> dict[str, Any]:
    return {
        "model": view.name,
        "date": record["date"],
        "recorded_at": record.get("recorded_at") or "",
        "run_type": record["run_type"],
        "airflow_run_id": record["airflow_run_id"],
        "try_number": record.get("try_number", 1),
        "verdict": record["verdict"],
        "challenger_version": record.get("challenger_version"),
        "champion_before": record.get("champion_before"),
        "champion_after": record.get("champion_after"),
        "aliases_moved": record.get("aliases_moved", False),
        "failed_gates": [g["gate"] for g in record.get("gates", []) if not g["passed"]],
        "reasons": record.get("reasons", []),
        "forced": record.get("forced", False),
        "record_key": record["record_key"],
    }


def rollback_decision(reports: Reports, model: str, airflow_run_id: str) -> dict[str, Any] | None:
    """The rollback record a given `model_rollback` run wrote, once it has."""
    rows = _attempts(reports, names.ROLLBACK, names.rollback_record(model))
    found = [r for r in rows if r.get("airflow_run_id") == airflow_run_id]
    return _decision_row(find_view(model), found[-1]) if found else None


# -- models ------------------------------------------------------------------------------------------------------
def _held_since(view: ModelView, champion: str | None, history: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The decision that made the current champion champion (the newest that moved the alias onto it)."""
    for row in history:  # newest first
        if row["aliases_moved"] and row["champion_after"] == champion and row["champion_before"] != champion:
            return row
    return None


def _version_facts(registry: ModelRegistry, view: ModelView, version: str) -> dict[str, Any]:
    info = registry.version(view.registered_model, version)
    metrics = registry.client.get_run(info.run_id).data.metrics if info.run_id else {}
    created = datetime.fromtimestamp(info.creation_timestamp / 1000, tz=UTC)
    return {
        "version": version,
        "created": created.strftime("%Y-%m-%d %H:%M UTC"),
        "metrics": {m: metrics.get(view.run_metric_prefix + m, metrics.get(m)) for m in view.key_metrics},
        "rolled_back": info.tags.get("rolled_back"),
    }


def models_overview(reports: Reports, registry: ModelRegistry, now: datetime | None = None) -> list[dict[str, Any]]:
    """Per registered model: champion, challenger and previous with their key metrics, and since when (and
    by which decision) the champion has held."""
    now = now or datetime.now(UTC)
    overview = []
    for view in model_views():
        aliases = registry.aliases(view.registered_model)
        history = decisions(reports, view.name)
        since = _held_since(view, aliases.get(CHAMPION), history)
        held_days = None
        if since and since["recorded_at"]:
            held_days = (now - datetime.fromisoformat(since["recorded_at"])).total_seconds() / 86400
        overview.append(
            {
                "model": view.name,
                "registered_model": view.registered_model,
                "kind": view.kind,
                "primary_metric": view.primary_metric,
                "key_metrics": list(view.key_metrics),
                "versions": {
                    alias: _version_facts(registry, view, aliases[alias]) for alias in ALIASES if alias in aliases
                },
                "champion_since": since,
                "champion_held_days": held_days,
                "decisions": len(history),
                "can_roll_back": view.can_roll_back and CHAMPION in aliases and PREVIOUS in aliases,
            }
        )
    return overview


# -- trends ------------------------------------------------------------------------------------------------------
def trends(reports: Reports, model: str) -> dict[str, Any]:
    """Per date: the primary metric (with the best AUC the demo generator allows, where it recorded one), the
    drift share against its threshold, and for the assistant its rates with their 95% intervals."""
    view = find_view(model)
    points: dict[date, dict[str, Any]] = {}
    if view.kind == "tabular":
        view_threshold = load_model_config(view.name).monitoring.drift_share_threshold
        for day, record in dated_records(reports, view.pipeline, names.TRAINING):
            points.setdefault(day, {})["primary"] = record["metrics"].get(view.primary_metric)
            points[day]["best_auc"] = record.get("oracle_roc_auc")
        for day, record in dated_records(reports, names.MONITORING, view.drift_record):
            if "share_drifted" in record:
                threshold = record.get("share_threshold") or view_threshold
                points.setdefault(day, {}).update(drift=record["share_drifted"], drift_threshold=threshold)
    else:
        for day, record in dated_records(reports, view.pipeline, names.EVALUATION):
            metrics = record["models"].get("challenger", {})
            intervals = record.get("intervals", {}).get("challenger", {})
            points.setdefault(day, {})["primary"] = metrics.get(view.primary_metric)
            for rate in ASSISTANT_TRENDS:
                points[day][rate] = metrics.get(rate)
                points[day][f"{rate}_interval"] = intervals.get(rate)
        for day, record in dated_records(reports, names.MONITORING, view.drift_record):
            drift = record.get("embedding_drift")
            if drift:
                points.setdefault(day, {}).update(drift=drift["score"], drift_threshold=drift["threshold"])
    fields = ["primary", "drift", "drift_threshold"]
    fields += ["best_auc"] if view.kind == "tabular" else [f for r in ASSISTANT_TRENDS for f in (r, f"{r}_interval")]
    rows = [{"date": day.isoformat()} | dict.fromkeys(fields) | facts for day, facts in sorted(points.items())]
    return {"model": view.name, "kind": view.kind, "primary_metric": view.primary_metric, "points": rows}


# -- the live index ---------------------------------------------------------------------------------------------
def live_index(reports: Reports) -> dict[str, Any]:
    """The live index as the newest refresh left it, when it was switched, and every refresh's figures."""
    history = dated_records(reports, names.KB_REFRESH, names.REFRESH)
    live = [(day, r) for day, r in history if not r.get("recorded_only") and r.get("live_after")]
    current = live[-1][1] if live else None
    switched = (
        next(
            (
                day
                for day, r in reversed(live)
                if r["live_after"] == current["live_after"] and r["live_before"] != r["live_after"]
            ),
            None,
        )
        if current
        else None
    )
    rows = [
        {
            "date": day.isoformat(),
            "index": r["index_name"],
            "chunks": r["chunks_total"],
            "vectors": r.get("vectors"),
            "embedded": r["embedded"],
            "hit_rate": r["hit_rate"],
            "hit_rate_floor": r["hit_rate_floor"],
            "live_after": r["live_after"],
            "promoted": r["promoted"],
            "recorded_only": r.get("recorded_only", False),
            "reason": r["reason"],
        }
        for day, r in history
    ]
    return {
        "live": current["live_after"] if current else None,
        "switched_on": switched.isoformat() if switched else None,
        "chunks": current["chunks_total"] if current else None,
        "vectors": current.get("vectors") if current else None,
        "hit_rate": current["hit_rate"] if current else None,
        "k": current["k"] if current else None,
        "embedding_model": current.get("embedding_model") if current else None,
        "refreshes": rows[::-1],
    }


# -- reports -----------------------------------------------------------------------------------------------------
REPORT_KINDS = {  # the kind of report people look for -> the file names that are one
    "validation": re.compile(r"validation\.html$"),
    "drift": re.compile(r"[^/]+_drift\.html$"),
    "evaluation": re.compile(r"(evaluation|answers)\.json$"),
    "hallucination": re.compile(r"(hallucination[^/]*|assistant)\.(html|json)$"),
    "quarantine": re.compile(r"quarantine[^/]*\.(html|json)$"),
    "plot": re.compile(r"[^/]+\.(png|svg)$"),
    "summary": re.compile(r"summary\.md$"),
}


def report_links(reports: Reports, limit_days: int = 30) -> list[dict[str, Any]]:
    """Per date (newest first, at most `limit_days`): each run's reports, by kind, as keys the plugin serves."""
    by_day: dict[str, list[dict[str, str]]] = {}
    pipelines = {names.MONITORING, names.KB_REFRESH, names.SUMMARY} | {v.pipeline for v in model_views()}
    for pipeline in sorted(pipelines):
        for key in reports.store.list(f"{pipeline}/"):
            found = _DATED.match(key)
            if not found or "/history/" in key:
                continue
            kind = next((k for k, pattern in REPORT_KINDS.items() if pattern.search(found["rest"])), None)
            if kind:
                by_day.setdefault(found["day"], []).append(
                    {"pipeline": pipeline, "kind": kind, "name": found["rest"], "key": key}
                )
    days = sorted(by_day, reverse=True)[:limit_days]
    return [{"date": day, "reports": sorted(by_day[day], key=lambda r: (r["kind"], r["pipeline"]))} for day in days]


SERVABLE = re.compile(r"^[A-Za-z0-9._-]+/\d{4}-\d{2}-\d{2}/[A-Za-z0-9._/-]+$")


def report_file(reports: Reports, key: str) -> tuple[bytes, str]:
    """A report's bytes and media type, for a key inside a pipeline's date folder (never anything else of the
    reports location: no `..`, no absolute paths, no other prefixes)."""
    if not SERVABLE.match(key) or ".." in key.split("/"):
        raise KeyError(f"not a report key: {key!r}")
    media = mimetypes.guess_type(key)[0] or "application/octet-stream"
    if key.endswith(".md"):
        media = "text/plain"
    return reports.store.get(key), media
