"""Scenario switches of the demo world: a drift onset date and deliberate bad-data injections.

They exist so that monitoring can be shown to catch drift (and not before it starts) and so that the
validation gate can be shown to stop each kind of bad partition.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from ml_platform.config.datasets import DatasetSchema
from ml_platform.config.demo import BAD_DATA_KINDS, BadDataEntry, DemoFile, load_demo_file
from ml_platform.errors import ConfigError

__all__ = ["BAD_DATA_KINDS", "BadData", "DemoConfig", "Scenario", "inject_bad_data", "load_demo_config"]


@dataclass(frozen=True)
class BadData:
    dataset: str
    dt: date
    kind: str

    def __post_init__(self) -> None:
        if self.kind not in BAD_DATA_KINDS:
            raise ConfigError(f"unknown bad-data kind {self.kind!r}; expected one of {BAD_DATA_KINDS}")


@dataclass(frozen=True)
class Scenario:
    drift_onset: date | None = None
    bad_data: tuple[BadData, ...] = ()

    def drifted(self, day: date) -> bool:
        return self.drift_onset is not None and day >= self.drift_onset

    def bad_kinds(self, dataset: str, day: date) -> list[str]:
        return [b.kind for b in self.bad_data if b.dataset == dataset and b.dt == day]


@dataclass(frozen=True)
class DemoConfig:
    """demo.yaml with the environment's overrides applied (DEMO_DAYS, DEMO_SCALE, DEMO_DRIFT_ONSET, DEMO_BAD_DATA)."""

    days: int
    sizes: Mapping[str, Mapping[str, int]]
    scenario: Scenario
    scale: float = 1.0

    def size(self, dataset: str, key: str, minimum: int = 1) -> int:
        return max(minimum, round(self.sizes[dataset][key] * self.scale))


def _parse_onset(value: date | int | str | None, latest: date) -> date | None:
    if value in (None, "", "null", "none"):
        return None
    if isinstance(value, date):
        return value
    text = str(value).strip()
    if text.lstrip("-").isdigit():
        return latest + timedelta(days=int(text))
    return date.fromisoformat(text)


def _parse_bad_data(env_value: str | None, configured: tuple[BadDataEntry, ...]) -> tuple[BadData, ...]:
    """From the environment's form `dataset:YYYY-MM-DD:kind,...`, else from demo.yaml."""
    if not env_value:
        return tuple(BadData(b.dataset, b.dt, b.kind) for b in configured)
    items = []
    for part in filter(None, (p.strip() for p in env_value.split(","))):
        dataset, dt, kind = part.split(":")
        items.append(BadData(dataset, date.fromisoformat(dt), kind))
    return tuple(items)


def load_demo_config(latest: date | None = None, env: Mapping[str, str] | None = None) -> DemoConfig:
    env = os.environ if env is None else env
    file: DemoFile = load_demo_file()
    scenario = Scenario(
        drift_onset=_parse_onset(env.get("DEMO_DRIFT_ONSET", file.scenario.drift_onset), latest or date.today()),
        bad_data=_parse_bad_data(env.get("DEMO_BAD_DATA"), file.scenario.bad_data),
    )
    return DemoConfig(
        days=int(env.get("DEMO_DAYS", file.days)),
        sizes=file.sizes,
        scenario=scenario,
        scale=float(env.get("DEMO_SCALE", 1.0)),
    )


# -- bad-data injection ----------------------------------------------------------------------------------
def _feature_of(schema: DatasetSchema, want: str) -> str:
    """First feature column of a kind: 'numeric' or 'category' (skips ids, labels and time)."""
    for name in schema.feature_columns:
        spec = schema.column(name)
        if (want == "numeric" and spec.numeric and spec.min is not None) or (
            want == "category" and spec.dtype == "category"
        ):
            return name
    raise ValueError(f"{schema.name} has no {want} feature to corrupt")


def inject_bad_data(df: pd.DataFrame, kind: str, schema: DatasetSchema, rng: np.random.Generator) -> pd.DataFrame:
    """Corrupt a clean partition the way real feeds break; each kind must trip a distinct validation check."""
    out = df.copy()
    n = len(out)
    some = rng.choice(n, size=max(1, n // 5), replace=False)
    if kind == "missing_column":
        return out.drop(columns=[_feature_of(schema, "numeric")])
    if kind == "null_burst":
        column = _feature_of(schema, "category")
        out[column] = out[column].astype("object")
        out.loc[some, column] = None
    elif kind == "out_of_range":
        column = _feature_of(schema, "numeric")
        out[column] = out[column].astype("float64")
        out.loc[some, column] = -999.0
    elif kind == "unknown_category":
        column = _feature_of(schema, "category")
        out[column] = out[column].astype("object")
        out.loc[some, column] = "??corrupted??"
    elif kind == "duplicate_ids":
        out.loc[some, schema.id_column] = out[schema.id_column].iloc[0]
    elif kind == "label_collapse":
        out[schema.label_column] = schema.positive_label
    elif kind == "too_few_rows":
        out = out.iloc[: max(1, schema.row_count[0] // 4)]
    else:
        raise ConfigError(f"unknown bad-data kind {kind!r}; expected one of {BAD_DATA_KINDS}")
    return out
