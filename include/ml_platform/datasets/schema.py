"""Type coercion of foreign files (an import, a landed feed) against a dataset's schema, with a report of
everything that could not be read. The schemas themselves are config (`ml_platform.config.datasets`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ml_platform.config.datasets import ColumnSpec, DatasetSchema

_TRUE, _FALSE = {"true", "1", "yes", "y", "t"}, {"false", "0", "no", "n", "f"}


@dataclass
class CoercionReport:
    """What an import could not read, per column, so a user sees exactly what was lost and why."""

    rows: int = 0
    missing_columns: list[str] = field(default_factory=list)
    extra_columns: list[str] = field(default_factory=list)
    unparseable: dict[str, dict[str, Any]] = field(default_factory=dict)
    unknown_categories: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.missing_columns

    def lines(self) -> list[str]:
        out = [f"rows read: {self.rows}"]
        if self.missing_columns:
            out.append(f"MISSING required columns: {', '.join(self.missing_columns)}")
        if self.extra_columns:
            out.append(f"ignored extra columns: {', '.join(self.extra_columns)}")
        for column, info in self.unparseable.items():
            out.append(
                f"{column}: {info['count']} value(s) not readable as {info['dtype']} -> null, e.g. {info['examples']}"
            )
        for column, counts in self.unknown_categories.items():
            out.append(
                f"{column}: values outside the schema vocabulary kept as-is (validation will flag them): {counts}"
            )
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "missing_columns": self.missing_columns,
            "extra_columns": self.extra_columns,
            "unparseable": self.unparseable,
            "unknown_categories": self.unknown_categories,
        }


def _fits_int64(values: pd.Series) -> bool:
    """A value beyond int64 stays a float, for validation's range check to name, instead of wrapping around."""
    return bool(values.abs().max() < 2**63) if len(values) else True


def unchecked_table_violations(frame: pd.DataFrame, schema: DatasetSchema) -> list[str]:
    """The schema's column rules on a table Great Expectations does not validate (one without a label:
    a knowledge base, chat logs), as lines that name the column and the offending ids."""
    found = []
    ids = frame[schema.id_column].astype("string") if schema.id_column in frame else pd.Series(dtype="string")
    for spec in schema.columns:
        values = frame[spec.name]
        blank = values.isna() | (values.astype("string").str.strip() == "")
        if blank.mean() > spec.max_null_fraction:
            found.append(
                f"{spec.name}: {int(blank.sum())} blank value(s), e.g. at {schema.id_column} {_some(ids[blank])}"
            )
        if spec.unique and values.dropna().duplicated().any():
            repeated = values[values.duplicated(keep=False) & values.notna()]
            found.append(f"{spec.name}: duplicated values {_some(repeated.astype('string'))}")
        if spec.numeric:
            low = values < spec.min if spec.min is not None else pd.Series(False, index=values.index)
            high = values > spec.max if spec.max is not None else pd.Series(False, index=values.index)
            if (low | high).any():
                found.append(f"{spec.name}: values outside [{spec.min}, {spec.max}], e.g. {_some(values[low | high])}")
    return found


def _some(values: pd.Series) -> list[Any]:
    return values.drop_duplicates().head(3).tolist()


def _coerce_column(raw: pd.Series, spec: ColumnSpec, report: CoercionReport) -> pd.Series:
    text = raw.astype("string").str.strip()
    blank = text.isna() | (text == "")
    if spec.numeric:
        # Plain float64 (NaN for missing), not pandas' nullable types: the lake stores numpy dtypes.
        parsed = pd.to_numeric(text.mask(blank), errors="coerce").astype("float64")
    elif spec.dtype == "bool":
        lowered = text.mask(blank).str.lower()
        parsed = lowered.map(lambda v: True if v in _TRUE else False if v in _FALSE else None, na_action="ignore")
    elif spec.dtype == "timestamp":
        parsed = pd.to_datetime(text.mask(blank), errors="coerce", utc=True).dt.tz_localize(None)
    else:
        parsed = text.mask(blank)
    failed = (parsed.isna() & ~blank).to_numpy(dtype=bool, na_value=False)
    if failed.any():
        first = np.flatnonzero(failed)[:3]
        report.unparseable[spec.name] = {
            "dtype": spec.dtype,
            "count": int(failed.sum()),
            "examples": text[failed].unique()[:3].tolist(),
            # [row, value] of the first few, rows counted from 1 after any header: where to look in the file.
            "at": [[int(i) + 1, str(text.iloc[i])] for i in first],
        }
    if blank.any() and spec.numeric:
        report.unparseable.setdefault(spec.name, {"dtype": spec.dtype, "count": 0, "examples": []})
        report.unparseable[spec.name]["blank"] = int(blank.sum())
    if spec.dtype == "int" and not parsed.isna().any() and (parsed == parsed.round()).all() and _fits_int64(parsed):
        return parsed.astype("int64")
    if spec.dtype == "bool":
        return parsed.astype("bool") if not parsed.isna().any() else parsed.astype("object")
    if spec.dtype == "category" and spec.values is not None:
        # A numeric vocabulary (0/1) arrives as text from CSV: compare in the schema's own type.
        if all(isinstance(v, int | float) for v in spec.values):
            parsed = pd.to_numeric(parsed, errors="coerce")
        outside = parsed.dropna()[~parsed.dropna().isin(spec.values)]
        if len(outside):
            report.unknown_categories[spec.name] = outside.value_counts().head(5).to_dict()
        return parsed.astype("object")
    return parsed


def coerce_to_schema(df: pd.DataFrame, schema: DatasetSchema) -> tuple[pd.DataFrame, CoercionReport]:
    """Rename-free coercion: columns must carry the schema's names; values are parsed to its types."""
    report = CoercionReport(rows=len(df))
    report.missing_columns = [c for c in schema.column_names if c not in df.columns]
    report.extra_columns = [c for c in df.columns if c not in schema.column_names]
    if report.missing_columns:
        return df, report
    out = pd.DataFrame({spec.name: _coerce_column(df[spec.name], spec, report) for spec in schema.columns})
    return out, report
