"""Landing one date's partitions for a group of tables, from the demo generators or a landing folder.

A group is what one ingest task lands (churn, fraud, or the four support tables). Writing a date again
replaces exactly that date's partitions, and the step's record under REPORTS_URI/ingest/<date>/ is
rewritten with them, so reruns and backfills are safe by construction.
"""

from __future__ import annotations

import io
import logging
from datetime import date
from typing import Any

import pandas as pd

from ml_platform.catalog import GROUP_TABLES, SOURCES, load_ingest_config
from ml_platform.datasets.common import rng_for
from ml_platform.datasets.scenario import DemoConfig, inject_bad_data, load_demo_config
from ml_platform.datasets.schema import coerce_to_schema, load_schema
from ml_platform.lake import Lake, PartitionMissing, as_date
from ml_platform.reports import Reports
from ml_platform.settings import Settings
from ml_platform.storage import open_store

log = logging.getLogger(__name__)

LABELLED = ("churn", "fraud")  # tables with a schema, a label and a known-signal generator


def demo_tables(group: str, day: date, seed: int, demo: DemoConfig) -> dict[str, tuple[pd.DataFrame, dict[str, Any]]]:
    """Generated tables of a group for a day, with any bad data the scenario asks for already injected."""
    scenario = demo.scenario
    if group == "churn":
        from ml_platform.datasets import churn

        frame, meta = churn.generate_churn(
            day,
            seed,
            scenario,
            rows=demo.size("churn", "rows", 50),
            population=demo.size("churn", "population", 200),
        )
        tables = {"churn": (frame, meta)}
    elif group == "fraud":
        from ml_platform.datasets import fraud

        frame, meta = fraud.generate_fraud(
            day,
            seed,
            scenario,
            rows=demo.size("fraud", "rows", 200),
            customers=demo.size("fraud", "customers", 50),
            merchants=demo.size("fraud", "merchants", 10),
        )
        tables = {"fraud": (frame, meta)}
    elif group == "support":
        from ml_platform.datasets import support

        frames, meta = support.generate_support(
            day,
            seed,
            scenario,
            chats=demo.size("support", "chats", 10),
            eval_questions=demo.size("support", "eval_questions", 8),
        )
        tables = {name: (frame, dict(meta)) for name, frame in frames.items()}
    else:
        raise KeyError(f"unknown ingest group {group!r}; known: {list(GROUP_TABLES)}")
    for name, (frame, meta) in tables.items():
        kinds = scenario.bad_kinds(name, day)
        for kind in kinds:
            frame = inject_bad_data(frame, kind, load_schema(name), rng_for(seed, "bad-data", name, day, kind))
        tables[name] = (frame, {**meta, "source": "demo", "injected_bad_data": kinds})
    return tables


def landing_tables(group: str, day: date, landing_uri: str) -> dict[str, tuple[pd.DataFrame, dict[str, Any]]]:
    """Files dropped by an upstream system at LANDING_URI/<table>/<date>.parquet|csv, typed by the schema."""
    store = open_store(landing_uri)
    tables = {}
    for name in GROUP_TABLES[group]:
        for suffix, reader in ((".parquet", pd.read_parquet), (".csv", lambda b: pd.read_csv(b, dtype=str))):
            key = f"{name}/{day.isoformat()}{suffix}"
            if store.exists(key):
                frame = reader(io.BytesIO(store.get(key)))
                break
        else:
            raise PartitionMissing(
                f"no landing file for {name} on {day}: expected {store.url(f'{name}/{day}.parquet')} or .csv"
            )
        meta: dict[str, Any] = {"source": "landing", "file": store.url(key)}
        if name in LABELLED:
            frame, report = coerce_to_schema(frame, load_schema(name))
            if not report.ok:
                raise ValueError(f"{store.url(key)}: " + "; ".join(report.lines()))
            meta["coercion"] = report.as_dict()
        tables[name] = (frame, meta)
    return tables


def _summary_row(name: str, info_rows: int, frame: pd.DataFrame, meta: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {"table": name, "rows": info_rows, "source": meta.get("source")}
    if name in LABELLED:
        schema = load_schema(name)
        if schema.label_column in frame:
            row["label_rate"] = round(float(schema.label_binary(frame).mean()), 4)
        row["best_auc"] = meta.get("oracle_roc_auc")
    row["drifted"] = meta.get("drifted", False)
    row["bad_data"] = ",".join(meta.get("injected_bad_data", [])) or "-"
    return row


def ingest_group(
    group: str, day: date | str, settings: Settings, source: str | None = None, demo: DemoConfig | None = None
) -> dict[str, Any]:
    """Land every table of `group` for `day`; returns (and stores) the step's record."""
    day = as_date(day)
    source = source or load_ingest_config().sources[group]
    if source == "demo":
        tables = demo_tables(group, day, settings.seed, demo or load_demo_config())
    elif source == "landing":
        tables = landing_tables(group, day, settings.landing_uri)
    else:
        raise ValueError(f"unknown ingest source {source!r}; expected one of {SOURCES}")
    lake = Lake.at(settings.lake_uri)
    partitions, rows = [], []
    for name, (frame, meta) in tables.items():
        info = lake.write(name, day, frame, meta)
        log.info("landed %s/dt=%s: %d rows, hash %s (%s)", name, day, info.rows, info.content_hash, meta["source"])
        partitions.append(info.as_dict() | {"meta": meta})
        rows.append(_summary_row(name, info.rows, frame, meta))
    record = {
        "pipeline": "ingest",
        "step": group,
        "date": day.isoformat(),
        "source": source,
        "partitions": partitions,
        "summary": {"section": "Ingestion", "rows": rows},
    }
    Reports.at(settings.reports_uri).write_json("ingest", day, group, record)
    return record
