"""Where a day's tables come from: the deterministic demo generators, or files an upstream system dropped in
a landing folder. Both return {table: (frame, metadata)} for one ingest group and one date."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

import pandas as pd

from ml_platform.config.datasets import load_schema
from ml_platform.config.pipelines import IngestGroup
from ml_platform.datasets.common import rng_for
from ml_platform.datasets.scenario import DemoConfig, inject_bad_data
from ml_platform.datasets.schema import CoercionReport, coerce_to_schema, unchecked_table_violations
from ml_platform.errors import BadInput, ConfigError, PartitionMissing
from ml_platform.storage import open_store

Tables = dict[str, tuple[pd.DataFrame, dict[str, Any]]]


def _generated(group: str, day: date, seed: int, demo: DemoConfig) -> Tables:
    scenario = demo.scenario
    if group == "churn":
        from ml_platform.datasets import churn

        frame, meta = churn.generate_churn(
            day, seed, scenario, rows=demo.size("churn", "rows", 50), population=demo.size("churn", "population", 200)
        )
        return {"churn": (frame, meta)}
    if group == "fraud":
        from ml_platform.datasets import fraud

        frame, meta = fraud.generate_fraud(
            day,
            seed,
            scenario,
            rows=demo.size("fraud", "rows", 200),
            customers=demo.size("fraud", "customers", 50),
            merchants=demo.size("fraud", "merchants", 10),
        )
        return {"fraud": (frame, meta)}
    if group == "support":
        from ml_platform.datasets import support

        frames, meta = support.generate_support(
            day,
            seed,
            scenario,
            chats=demo.size("support", "chats", 10),
            eval_questions=demo.size("support", "eval_questions", 8),
        )
        return {name: (frame, dict(meta)) for name, frame in frames.items()}
    raise ConfigError(
        f"ingest group {group!r} has source 'demo', but demo generators exist only for churn, fraud, support"
    )


def demo_tables(group: IngestGroup, day: date, seed: int, demo: DemoConfig) -> Tables:
    """The group's tables as generated for a day, with any bad data the scenario asks for already injected."""
    generated = _generated(group.name, day, seed, demo)
    unknown = [name for name in group.tables if name not in generated]
    if unknown:
        raise ConfigError(f"ingest group {group.name!r} lists {unknown}; its demo generator makes {sorted(generated)}")
    tables = {name: generated[name] for name in group.tables}
    for name, (frame, meta) in tables.items():
        kinds = demo.scenario.bad_kinds(name, day)
        for kind in kinds:
            frame = inject_bad_data(frame, kind, load_schema(name), rng_for(seed, "bad-data", name, day, kind))
        tables[name] = (frame, {**meta, "source": "demo", "injected_bad_data": kinds})
    return tables


def landing_tables(group: IngestGroup, day: date, landing_uri: str) -> Tables:
    """Files dropped at LANDING_URI/<table>/<date>.parquet|csv, typed by each table's schema.

    A nightly feed must have exactly its schema's columns: a file that lacks one, or carries one the schema
    does not know (a renamed or shifted column), is refused by name. Tables without a label, which Great
    Expectations does not validate, get the schema's column rules here (blank required values, duplicate ids).
    A value its column's type cannot read is refused too, by column, row and value: coercion would turn it
    into a null that later checks could only call blank."""
    store = open_store(landing_uri)
    tables = {}
    for name in group.tables:
        schema = load_schema(name)
        frame, key = _read_landed(store, name, day)
        frame, report = coerce_to_schema(frame, schema)
        problems = _refusals(report, name)
        if not problems and not schema.has_label:
            problems = unchecked_table_violations(frame, schema)
        if problems:
            raise BadInput(f"{store.url(key)} refused: " + "; ".join(problems))
        tables[name] = (frame, {"source": "landing", "file": store.url(key), "coercion": report.as_dict()})
    return tables


def _refusals(report: CoercionReport, table: str) -> list[str]:
    """Why a landed file is refused, from its coercion report. Nothing here is "ignored": an unknown column
    is a reason to refuse (a renamed or shifted column), not a line to skip."""
    problems = [f"MISSING required columns: {', '.join(report.missing_columns)}"] if report.missing_columns else []
    if report.extra_columns:
        problems.append(f"columns not in the {table} schema: {', '.join(map(str, report.extra_columns))}")
    for column, info in report.unparseable.items():
        if info["count"]:  # a numeric column's entry may only count its blanks, which the schema rules judge
            where = ", ".join(f"row {row}: {value!r}" for row, value in info["at"])
            problems.append(f"{column}: {info['count']} value(s) not readable as {info['dtype']} ({where})")
    return problems


def _read_csv(data: io.BytesIO) -> pd.DataFrame:
    """All columns as text (the schema types them); a repeated column name is refused, since pandas would
    silently rename the second one and keep whichever it read first."""
    header = next(csv.reader([data.getvalue().split(b"\n", 1)[0].decode("utf-8")]), [])
    repeated = sorted({c for c in header if header.count(c) > 1})
    if repeated:
        raise BadInput(f"has a duplicated header: {', '.join(repeated)} appear(s) more than once")
    return pd.read_csv(data, dtype=str)


def _read_landed(store, name: str, day: date) -> tuple[pd.DataFrame, str]:
    """The landed file of a table and day; a file that cannot be read, or holds no rows, is refused by name
    (the same file fails the same way on every retry)."""
    for suffix, reader in ((".parquet", pd.read_parquet), (".csv", _read_csv)):
        key = f"{name}/{day.isoformat()}{suffix}"
        if store.exists(key):
            try:
                frame = reader(io.BytesIO(store.get(key)))
            except UnicodeDecodeError as error:
                raise BadInput(f"{store.url(key)} is not UTF-8 text ({error}): re-export it as UTF-8") from error
            except BadInput as error:
                raise BadInput(f"{store.url(key)} {error}") from error
            except Exception as error:  # pandas and pyarrow raise many kinds for a bad file; all mean "unreadable"
                raise BadInput(f"{store.url(key)} cannot be read as {suffix[1:]}: {error}") from error
            if frame.empty:
                raise BadInput(f"{store.url(key)} holds no rows (an empty file or a header only)")
            return frame, key
    raise PartitionMissing(
        f"no landing file for {name} on {day}: expected {store.url(f'{name}/{day}.parquet')} or .csv"
    )
