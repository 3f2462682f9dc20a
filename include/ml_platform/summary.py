"""The nightly run summary, derived from the plain records the steps left under REPORTS_URI.

This module alone knows the summary's layout: which record feeds which section, and which of its facts
become columns. Steps only write records. The summary is printed and written as Markdown and JSON to
REPORTS_URI/summary/<date>/, so the same facts are there for a person at a terminal, a reviewer in a browser
and a script (the JSON keeps full precision; the Markdown rounds for people).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from typing import Any

from ml_platform import names
from ml_platform.config.pipelines import load_ingest_config
from ml_platform.config.tabular import load_model_config, model_names
from ml_platform.dates import as_date
from ml_platform.reports import Reports

Rows = list[dict[str, Any]]


def _ingestion(reports: Reports, day: date) -> Rows:
    rows = []
    for group in load_ingest_config().groups:
        record = reports.find_json(names.INGEST, day, group) or {}
        for partition in record.get("partitions", []):
            meta = partition.get("meta", {})
            rows.append(
                {
                    "table": partition["dataset"],
                    "rows": partition["rows"],
                    "source": meta.get("source"),
                    "label_rate": partition.get("label_rate"),
                    "best_auc": meta.get("oracle_roc_auc"),
                    "drifted": meta.get("drifted", False),
                    "bad_data": ",".join(meta.get("injected_bad_data", [])) or "-",
                }
            )
    return rows


def _drift(reports: Reports, day: date) -> Rows:
    rows = []
    for model in model_names():
        record = reports.find_json(names.MONITORING, day, names.drift_record(model))
        if record is None:
            continue
        rows.append(
            {
                "model": model,
                "champion": record.get("champion_version"),
                "verdict": record["verdict"],
                "share_drifted": record.get("share_drifted"),
                "drifted_features": ", ".join((record.get("drifted_features") or [])[:4]) or "-",
                "prediction_drift": (record.get("prediction_drift") or {}).get("score"),
                "live_roc_auc": (record.get("live_quality") or {}).get("roc_auc"),
            }
        )
    return rows


def _validation_cell(validation: dict[str, Any]) -> str:
    if validation["success"]:
        return "passed"
    return f"FAILED ({len(validation['failed'])} of {validation['evaluated']})"


def _decision_cells(decision: dict[str, Any]) -> dict[str, Any]:
    return {
        "champion": f"{decision['champion_before'] or 'none'} -> {decision['champion_after'] or 'none'}",
        "decision": f"{decision['verdict']}: {'; '.join(decision['reasons'])}",
    }


def _models(reports: Reports, day: date) -> Rows:
    rows = []
    for model in model_names():
        pipeline = load_model_config(model).pipeline
        validation = reports.find_json(pipeline, day, names.VALIDATION)
        training = reports.find_json(pipeline, day, names.TRAINING)
        decision = reports.find_json(pipeline, day, names.DECISION)
        if not (validation or training or decision):
            continue
        row: dict[str, Any] = {"model": model, "date": day.isoformat()}
        if validation:
            row |= {"rows": validation["rows"], "validation": _validation_cell(validation)}
            if validation.get("quarantined_to"):
                row["decision"] = f"stopped before training; partition quarantined to {validation['quarantined_to']}"
        if training:
            row |= {
                "train_rows": training["train_rows"],
                "roc_auc": training["metrics"]["roc_auc"],
                "pr_auc": training["metrics"]["pr_auc"],
                "vs_best_auc": training["auc_vs_best"],
                "version": training["version"] + (" (reused)" if training["reused"] else ""),
            }
        if decision:
            row |= _decision_cells(decision)
        rows.append(row)
    return rows


def _index(reports: Reports, day: date) -> Rows:
    record = reports.find_json(names.KB_REFRESH, day, names.REFRESH)
    if record is None:
        return []
    return [
        {
            "date": record["day"],
            "chunks": record["chunks_total"],
            "embedded": record["embedded"],
            "deleted": record["deleted"],
            "blocked": len(record["blocked"]),
            f"hit_rate@{record['k']}": record["hit_rate"],
            "live": f"{record['live_before'] or 'none'} -> {record['live_after']}",
            "promoted": record["promoted"],
            "recorded_only": record.get("recorded_only", False),
        }
    ]


# The assistant's rates shown per model, each with its 95% interval: bare model, then the guarded path.
ASSISTANT_RATES = (
    "correctness",
    "hallucination_rate",
    "abstention_accuracy",
    "false_abstention_rate",
    "served_wrong_answer_rate",
    "served_false_abstention_rate",
    "retrieval_hit_rate",
)


def _with_interval(value: float, interval: list[float] | None) -> str:
    return f"{value:.3f} [{interval[0]:.2f}, {interval[1]:.2f}]" if interval else f"{value:.3f}"


def _assistant_evaluation(reports: Reports, day: date) -> Rows:
    record = reports.find_json(names.LLM_FINETUNE, day, names.EVALUATION)
    if record is None:
        return []
    intervals = record.get("intervals", {})
    return [
        {
            "model": label,
            "questions": int(metrics["questions"]),
            **{
                rate: _with_interval(metrics[rate], intervals.get(label, {}).get(rate))
                for rate in ASSISTANT_RATES
                if rate in metrics
            },
            "cost_per_1k_usd": metrics["cost_per_1k_answers_usd"],
        }
        for label, metrics in record["models"].items()
    ]


def _assistant_decision(reports: Reports, day: date) -> Rows:
    decision = reports.find_json(names.LLM_FINETUNE, day, names.DECISION)
    if decision is None:
        return []
    return [{"version": decision["challenger_version"], **_decision_cells(decision)}]


def _assistant_production(reports: Reports, day: date) -> Rows:
    record = reports.find_json(names.MONITORING, day, names.ASSISTANT_MONITORING)
    if record is None or "metrics" not in record:
        return []
    metrics = record["metrics"]
    return [
        {
            "date": record["day"],
            "champion": record["champion_version"],
            "chats": record["chats"],
            "answered": record["answered"],
            "hallucination_rate": metrics["hallucination_rate"],
            "latency_p95_s": metrics["latency_p95_s"],
            "tokens_in": metrics["tokens_in"],
            "tokens_out": metrics["tokens_out"],
            "cost_per_1k_usd": metrics["cost_per_1k_answers_usd"],
            "question_drift": record["embedding_drift"]["score"],
            "alerts": "; ".join(a["message"] if isinstance(a, dict) else str(a) for a in record["alerts"]) or "-",
        }
    ]


def _timeline(reports: Reports, day: date) -> tuple[str, Rows]:
    record = reports.find_json(names.MONITORING, day, names.DRIFT_TIMELINE)
    if record is None:
        return "Drift timeline", []
    title = f"Drift timeline {record['start']} .. {record['end']} (onset {record['onset'] or 'none planted'})"
    rows = [
        {
            "model": model,
            "days": alarm["days_checked"],
            "drifted_after_onset": alarm["drifted_days_after_onset"],
            "first_detection": alarm["first_detection_day"],
            "delay_days": alarm["detection_delay_days"],
            "false_alarms": alarm["false_alarms"],
            "plot": record["plot"],
        }
        for model, alarm in record["alarms"].items()
    ]
    return title, rows


# The summary's sections in the order a night runs them: (title, rows from the records of a date).
SECTIONS: list[tuple[str, Callable[[Reports, date], Rows]]] = [
    ("Ingestion", _ingestion),
    ("Drift (champion vs its training data)", _drift),
    ("Support assistant in production", _assistant_production),
    ("Models", _models),
    ("Knowledge-base index", _index),
    ("Support assistant (RAG evaluation)", _assistant_evaluation),
    ("Support assistant (decision)", _assistant_decision),
]


def collect(reports: Reports, day: date) -> dict[str, Rows]:
    """Non-empty sections of a date, in order."""
    sections = {title: rows for title, build in SECTIONS if (rows := build(reports, day))}
    title, rows = _timeline(reports, day)
    if rows:
        sections[title] = rows
    return sections


def cell(value: Any) -> str:
    """A value as people read it: counts with separators, measurements to the digits that matter."""
    if value is None:
        return "-"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if not isinstance(value, float):
        return str(value)
    if value != value:  # NaN
        return "-"
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:,.0f}"
    if magnitude >= 1:
        return f"{value:.2f}".rstrip("0").rstrip(".")
    if magnitude >= 0.001 or value == 0:
        return f"{value:.4f}".rstrip("0").rstrip(".")
    return f"{value:.2g}"


def markdown_table(rows: Rows) -> str:
    """A Markdown table padded to line up in a terminal as well."""
    columns = list(dict.fromkeys(key for row in rows for key in row))
    cells = [[cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]

    def line(values: list[str]) -> str:
        return "| " + " | ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)) + " |"

    return "\n".join([line(columns), line(["-" * w for w in widths]), *map(line, cells)])


def build_summary(reports_uri: str, day: date | str) -> tuple[str, dict[str, Any]]:
    """Returns (markdown, json payload) and stores both under REPORTS_URI/summary/<date>/."""
    day = as_date(day)
    reports = Reports.at(reports_uri)
    sections = collect(reports, day)
    parts = [f"# Nightly run summary for {day.isoformat()}"]
    if not sections:
        parts.append(f"\nNo step has recorded anything for {day} under {reports_uri}.")
    for title, rows in sections.items():
        parts += [f"\n## {title}\n", markdown_table(rows)]
    markdown = "\n".join(parts) + "\n"
    payload = {"date": day.isoformat(), "sections": sections}
    md_url = reports.write_bytes(names.SUMMARY, day, "summary.md", markdown.encode())
    json_url = reports.write_bytes(
        names.SUMMARY, day, "summary.json", json.dumps(payload, indent=2, default=str).encode()
    )
    markdown += f"\nWritten to {md_url} and {json_url}\n"
    return markdown, payload
