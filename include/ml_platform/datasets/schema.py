"""Dataset schemas loaded from `configs/datasets/<name>.yaml`, and type coercion of foreign files against them.

One schema feeds the generators' tests, the importer of real files, and (later) the validation suite, so a
column's vocabulary or range is written down once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

import pandas as pd
import yaml

from ml_platform.catalog import CONFIG_DIR

DTYPES = ("string", "category", "int", "float", "timestamp")


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    dtype: str
    unique: bool = False
    values: tuple[Any, ...] | None = None
    min: float | None = None
    max: float | None = None
    pattern: str | None = None
    max_null_fraction: float = 0.0

    @property
    def numeric(self) -> bool:
        return self.dtype in ("int", "float")


@dataclass(frozen=True)
class DatasetSchema:
    name: str
    description: str
    id_column: str
    label_column: str
    positive_label: Any
    label_rate: tuple[float, float]
    row_count: tuple[int, int]
    columns: tuple[ColumnSpec, ...]
    time_column: str | None = None
    # Identifiers that are not the row id (customer, merchant): never model features.
    key_columns: tuple[str, ...] = ()

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> ColumnSpec:
        for spec in self.columns:
            if spec.name == name:
                return spec
        raise KeyError(f"{self.name} has no column {name!r}")

    @property
    def feature_columns(self) -> list[str]:
        skip = {self.id_column, self.label_column, self.time_column, *self.key_columns}
        return [c.name for c in self.columns if c.name not in skip]

    def label_binary(self, df: pd.DataFrame) -> pd.Series:
        return (df[self.label_column] == self.positive_label).astype(int)


@cache
def load_schema(name: str) -> DatasetSchema:
    path = CONFIG_DIR / "datasets" / f"{name}.yaml"
    if not path.exists():
        known = sorted(p.stem for p in (CONFIG_DIR / "datasets").glob("*.yaml"))
        raise KeyError(f"no schema for dataset {name!r}; known: {known}")
    raw = yaml.safe_load(path.read_text())
    columns = []
    for col_name, spec in raw["columns"].items():
        if spec["dtype"] not in DTYPES:
            raise ValueError(f"{path}: column {col_name} has dtype {spec['dtype']!r}, expected one of {DTYPES}")
        values = tuple(spec["values"]) if "values" in spec else None
        columns.append(ColumnSpec(name=col_name, **{**spec, "values": values}))
    label = raw["label"]
    return DatasetSchema(
        name=raw["name"],
        description=raw.get("description", ""),
        id_column=raw["id_column"],
        label_column=label["column"],
        positive_label=label["positive"],
        label_rate=tuple(label["rate"]),
        row_count=tuple(raw["rows"]),
        columns=tuple(columns),
        time_column=raw.get("time_column"),
        key_columns=tuple(raw.get("keys", ())),
    )


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


def _coerce_column(raw: pd.Series, spec: ColumnSpec, report: CoercionReport) -> pd.Series:
    text = raw.astype("string").str.strip()
    blank = text.isna() | (text == "")
    if spec.numeric:
        # Plain float64 (NaN for missing), not pandas' nullable types: the lake stores numpy dtypes.
        parsed = pd.to_numeric(text.mask(blank), errors="coerce").astype("float64")
    elif spec.dtype == "timestamp":
        parsed = pd.to_datetime(text.mask(blank), errors="coerce", utc=True).dt.tz_localize(None)
    else:
        parsed = text.mask(blank)
    failed = parsed.isna() & ~blank
    if failed.any():
        report.unparseable[spec.name] = {
            "dtype": spec.dtype,
            "count": int(failed.sum()),
            "examples": text[failed].unique()[:3].tolist(),
        }
    if blank.any() and spec.numeric:
        report.unparseable.setdefault(spec.name, {"dtype": spec.dtype, "count": 0, "examples": []})
        report.unparseable[spec.name]["blank"] = int(blank.sum())
    if spec.dtype == "int" and not parsed.isna().any() and (parsed == parsed.round()).all():
        return parsed.astype("int64")
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
