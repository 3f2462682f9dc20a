"""ingest_daily's step: land one date's partitions for a group of tables, from the demo generators or a
landing folder, and record what landed.

Writing a date again replaces exactly that date's partitions, and the step's record under
REPORTS_URI/ingest_daily/<date>/<group>.json is rewritten with them, so reruns and backfills are safe by
construction.
"""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from ml_platform import names
from ml_platform.config.datasets import load_schema
from ml_platform.config.pipelines import IngestGroup
from ml_platform.datasets.scenario import DemoConfig, load_demo_config
from ml_platform.datasets.sources import demo_tables, landing_tables
from ml_platform.lake import Lake
from ml_platform.reports import Reports
from ml_platform.run_context import RunContext
from ml_platform.settings import Settings

log = logging.getLogger(__name__)


def _label_rate(name: str, frame: pd.DataFrame) -> float | None:
    schema = load_schema(name)
    if not schema.has_label or schema.label_column not in frame:
        return None
    return float(schema.label_binary(frame).mean())


def ingest_step(
    group: IngestGroup, settings: Settings, ctx: RunContext, demo: DemoConfig | None = None
) -> dict[str, Any]:
    """Land every table of `group` for the run's date; returns (and stores) the step's record."""
    if group.source == "demo":
        tables = demo_tables(group, ctx.day, settings.seed, demo or load_demo_config())
    else:
        tables = landing_tables(group, ctx.day, settings.landing_uri)
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
