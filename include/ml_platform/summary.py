"""The nightly run summary: one table per pipeline, rebuilt from the records steps left under REPORTS_URI.

Printed to the terminal and written as Markdown and JSON to REPORTS_URI/summary/<date>/, so the same
summary is there for a person at a terminal, a reviewer in a browser and a script.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from ml_platform.lake import as_date
from ml_platform.reports import Reports


def pipelines() -> list[str]:
    """Pipelines in the order a night runs them; each writes records with a "summary" section."""
    from ml_platform.tabular.config import load_model_config, model_names

    return [
        "ingest",
        "model_monitoring",
        *(load_model_config(name).pipeline for name in model_names()),
        "kb_embedding_refresh",
        "llm_finetune",
    ]


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".") if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def markdown_table(rows: list[dict[str, Any]]) -> str:
    """A Markdown table padded to line up in a terminal as well."""
    columns = list(dict.fromkeys(key for row in rows for key in row))
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]

    def line(values: list[str]) -> str:
        return "| " + " | ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)) + " |"

    return "\n".join([line(columns), line(["-" * w for w in widths]), *map(line, cells)])


def collect(reports: Reports, day: date) -> dict[str, list[dict[str, Any]]]:
    """Rows per section. A step either adds whole rows, or fills in part of a keyed row (one row per
    model, completed by validation, training and the decision in their `order`)."""
    sections: dict[str, list[dict[str, Any]]] = {}
    for pipeline in pipelines():
        parts = sorted(
            (r["summary"] for r in reports.records(pipeline, day) if r.get("summary")),
            key=lambda part: part.get("order", 0),
        )
        keyed: dict[tuple[str, str], dict[str, Any]] = {}
        for part in parts:
            rows = sections.setdefault(part["section"], [])
            if "key" not in part:
                rows.extend(part["rows"])
            elif (part["section"], part["key"]) in keyed:
                keyed[part["section"], part["key"]].update(part["row"])
            else:
                keyed[part["section"], part["key"]] = dict(part["row"])
                rows.append(keyed[part["section"], part["key"]])
    return sections


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
    md_url = reports.write_bytes("summary", day, "summary.md", markdown.encode())
    json_url = reports.write_bytes("summary", day, "summary.json", json.dumps(payload, indent=2, default=str).encode())
    markdown += f"\nWritten to {md_url} and {json_url}\n"
    return markdown, payload
