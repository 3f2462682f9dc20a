"""Dataset schemas (`datasets/<name>.yaml`): columns, types, vocabularies, ranges, the id and the label.

One schema feeds the demo generators' tests, the importer of real files, the validation suite and the
model features, so a column's vocabulary or range is written down once.
"""

from __future__ import annotations

from typing import Any, Literal

import pandas as pd
from pydantic import Field, model_validator

from ml_platform.config.base import StrictModel, load_named, names_in

DType = Literal["string", "category", "int", "float", "bool", "timestamp"]


class ColumnSpec(StrictModel):
    name: str
    dtype: DType
    unique: bool = False
    values: tuple[Any, ...] | None = None
    min: float | None = None
    max: float | None = None
    pattern: str | None = None
    max_null_fraction: float = Field(default=0.0, ge=0, le=1)

    @property
    def numeric(self) -> bool:
        return self.dtype in ("int", "float")


class Label(StrictModel):
    column: str
    positive: Any
    rate: tuple[float, float]


class DatasetSchema(StrictModel):
    name: str
    description: str = ""
    id_column: str
    columns: tuple[ColumnSpec, ...]
    label: Label | None = None  # tables without a label (a knowledge base, chat logs) are not model data
    rows: tuple[int, int] = (1, 1_000_000_000)
    time_column: str | None = None
    keys: tuple[str, ...] = ()  # identifiers that are not the row id (customer, merchant): never features
    free_text: tuple[str, ...] = ()  # people's own words (chat questions): PII redacted at ingest

    @model_validator(mode="before")
    @classmethod
    def _named_columns(cls, raw: Any) -> Any:
        """YAML writes columns as a mapping `name: spec`; each spec gets its name."""
        if isinstance(raw, dict) and isinstance(raw.get("columns"), dict):
            columns = tuple({"name": name, **(spec or {})} for name, spec in raw["columns"].items())
            raw = {**raw, "columns": columns}
        return raw

    @model_validator(mode="after")
    def _known_columns(self) -> DatasetSchema:
        named = [self.id_column, self.time_column, *self.keys, *self.free_text, self.label and self.label.column]
        unknown = [n for n in named if n and n not in self.column_names]
        if unknown:
            raise ValueError(f"names columns it does not declare: {unknown}")
        return self

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> ColumnSpec:
        for spec in self.columns:
            if spec.name == name:
                return spec
        raise KeyError(f"{self.name} has no column {name!r}")

    @property
    def label_column(self) -> str:
        return self._label.column

    @property
    def positive_label(self) -> Any:
        return self._label.positive

    @property
    def label_rate(self) -> tuple[float, float]:
        return self._label.rate

    @property
    def row_count(self) -> tuple[int, int]:
        return self.rows

    @property
    def has_label(self) -> bool:
        return self.label is not None

    @property
    def _label(self) -> Label:
        if self.label is None:
            raise KeyError(f"dataset {self.name} has no label")
        return self.label

    @property
    def feature_columns(self) -> list[str]:
        skip = {self.id_column, self.time_column, *self.keys, self.label and self.label.column}
        return [c.name for c in self.columns if c.name not in skip]

    def label_binary(self, df: pd.DataFrame) -> pd.Series:
        return (df[self.label_column] == self.positive_label).astype(int)


def load_schema(name: str) -> DatasetSchema:
    return load_named(DatasetSchema, "datasets", name, "schema for dataset")


def dataset_names() -> list[str]:
    return names_in("datasets")
