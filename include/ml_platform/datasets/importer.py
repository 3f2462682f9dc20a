"""Bring your own data: import a CSV or Parquet file (a real Telco churn export, say) into lake partitions.

Values are parsed to the dataset's schema types; everything that could not be read is reported per column
(the blank `TotalCharges` of new customers in the real Telco file, for instance) instead of silently lost.
A file with a date column is split by it; a file without one (a one-off snapshot) is dealt out over the
requested dates in a fixed shuffled order, so that the pipelines have a window to train on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ml_platform.config.datasets import load_schema
from ml_platform.datasets.schema import CoercionReport, coerce_to_schema
from ml_platform.dates import as_date
from ml_platform.lake import Lake, PartitionInfo


@dataclass
class ImportResult:
    report: CoercionReport
    partitions: list[PartitionInfo] = field(default_factory=list)
    skipped_rows_outside_range: int = 0

    def lines(self) -> list[str]:
        out = self.report.lines()
        if self.skipped_rows_outside_range:
            out.append(f"rows outside the date range (not imported): {self.skipped_rows_outside_range}")
        out += [f"wrote {p.dataset}/dt={p.dt}: {p.rows} rows" for p in self.partitions]
        return out


def read_any(path: Path) -> pd.DataFrame:
    if path.suffix.lower() in (".parquet", ".pq"):
        return pd.read_parquet(path)
    if path.suffix.lower() == ".csv":
        # Everything as text first: the schema decides the types and reports what does not parse.
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    raise ValueError(f"{path}: unsupported file type {path.suffix!r}; use .csv or .parquet")


def _assign_dates(frame: pd.DataFrame, dates: list[date], date_column: str | None, seed: int) -> pd.Series:
    if date_column:
        if date_column not in frame:
            raise ValueError(f"date column {date_column!r} is not in the file; columns: {list(frame.columns)}")
        return pd.to_datetime(frame[date_column], errors="coerce").dt.date
    order = np.random.default_rng(seed).permutation(len(frame))
    slot = np.empty(len(frame), dtype=int)
    slot[order] = np.arange(len(frame)) % len(dates)
    return pd.Series([dates[i] for i in slot], index=frame.index)


def import_file(
    path: str | Path,
    dataset: str,
    start: date | str,
    end: date | str,
    lake: Lake,
    date_column: str | None = None,
    seed: int = 0,
    replace_other_source: bool = False,
) -> ImportResult:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such file: {path}")
    start, end = as_date(start), as_date(end)
    if end < start:
        raise ValueError(f"end date {end} is before start date {start}")
    schema = load_schema(dataset)
    raw = read_any(path)
    typed, report = coerce_to_schema(raw, schema)
    result = ImportResult(report)
    if not report.ok:
        raise ValueError(f"{path} cannot be imported as {dataset}: " + "; ".join(report.lines()))
    dates = list(pd.date_range(start, end, freq="D").date)
    assigned = _assign_dates(raw, dates, date_column, seed)
    inside = assigned.isin(dates)
    result.skipped_rows_outside_range = int((~inside).sum())
    meta: dict[str, Any] = {"source": "import", "file": str(path.resolve()), "coercion": report.as_dict()}
    parts = [(dataset, day, typed[(assigned == day).to_numpy()], meta) for day in dates]
    # All days are checked before any is written: a refused day leaves the others as they were.
    result.partitions = lake.write_many([p for p in parts if len(p[2])], replace_other_source=replace_other_source)
    return result
