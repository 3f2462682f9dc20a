"""ingest_daily's step: land one date's partitions for a group of tables, from the demo generators or a
landing folder, and record what landed.

Writing a date again replaces exactly that date's partitions, and the step's record under
REPORTS_URI/ingest_daily/<date>/<group>.json is rewritten with them, so reruns and backfills are safe by
construction.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

import pandas as pd

from ml_platform import names
from ml_platform.config.datasets import load_schema
from ml_platform.config.pipelines import IngestGroup, load_ingest_config
from ml_platform.datasets.scenario import DemoConfig, load_demo_config
from ml_platform.datasets.sources import demo_tables, landing_tables
from ml_platform.lake import Lake
from ml_platform.reports import Reports
from ml_platform.run_context import RunContext
from ml_platform.settings import Settings
from ml_platform.storage import open_store

log = logging.getLogger(__name__)


def _label_rate(name: str, frame: pd.DataFrame) -> float | None:
    schema = load_schema(name)
    if not schema.has_label or schema.label_column not in frame:
        return None
    return float(schema.label_binary(frame).mean())


def _redacted(
    name: str, frame: pd.DataFrame, meta: dict[str, Any], settings: Settings, day: date
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The table with its free-text columns passed through the guardrails (PII replaced by placeholders), and
    what was found; the raw text goes to RAW_URI only when the ingest config's `raw_copy` asks for it."""
    schema = load_schema(name)
    if not schema.free_text:
        return frame, meta
    from ml_platform.guardrails.screening import screen_frame

    screened, counts = screen_frame(frame, list(schema.free_text))
    if load_ingest_config().raw_copy:
        raw = frame[[schema.id_column, *schema.free_text]].to_parquet(index=False)
        open_store(settings.raw_uri).put(f"{name}/dt={day.isoformat()}.parquet", raw)
        log.warning("kept an unredacted copy of %s/dt=%s at %s (raw_copy: true)", name, day, settings.raw_uri)
    findings = {kind: n for kind, n in counts.items() if n}
    log.info("%s/dt=%s: guardrails redacted or flagged %s", name, day, findings or "nothing")
    return screened[list(frame.columns)], {**meta, "guardrails": findings}


def ingest_step(
    group: IngestGroup, settings: Settings, ctx: RunContext, demo: DemoConfig | None = None
) -> dict[str, Any]:
    """Land every table of `group` for the run's date; returns (and stores) the step's record."""
    if group.source == "demo":
        tables = demo_tables(group, ctx.day, settings.seed, demo or load_demo_config())
    else:
        tables = landing_tables(group, ctx.day, settings.landing_uri)
    tables = {name: _redacted(name, frame, meta, settings, ctx.day) for name, (frame, meta) in tables.items()}
    # Every table is checked before any is written: a refused table leaves the group's other tables as they were.
    landed = Lake.at(settings.lake_uri).write_many(
        [(name, ctx.day, frame, meta) for name, (frame, meta) in tables.items()],
        replace_other_source=bool(ctx.params.get("replace_other_source")),
    )
    partitions = []
    for info, (name, (frame, meta)) in zip(landed, tables.items(), strict=True):
        log.info("landed %s/dt=%s: %d rows, hash %s (%s)", name, ctx.day, info.rows, info.content_hash, meta["source"])
        partitions.append(info.as_dict() | {"label_rate": _label_rate(name, frame), "meta": meta})
    record = {
        "group": group.name,
        "date": ctx.day.isoformat(),
        "source": group.source,
        "rows": {p["dataset"]: p["rows"] for p in partitions},
        "partitions": partitions,
    }
    Reports.at(settings.reports_uri).write_json(names.INGEST, ctx.day, group.name, record)
    return record
