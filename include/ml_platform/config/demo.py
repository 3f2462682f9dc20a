"""The demo world's file (`demo.yaml`): sizes per day and the scenario's switches."""

from __future__ import annotations

from datetime import date
from typing import Literal, get_args

from pydantic import Field

from ml_platform.config.base import StrictModel, load

BadDataKind = Literal[
    "missing_column",
    "null_burst",
    "out_of_range",
    "unknown_category",
    "duplicate_ids",
    "label_collapse",
    "too_few_rows",
]
BAD_DATA_KINDS: tuple[str, ...] = get_args(BadDataKind)


class BadDataEntry(StrictModel):
    dataset: str
    dt: date
    kind: BadDataKind


class ScenarioFile(StrictModel):
    # A date, or a negative offset in days from the latest demo date (-7: a week before it); None: never.
    drift_onset: date | int | None = None
    bad_data: tuple[BadDataEntry, ...] = ()


class DemoFile(StrictModel):
    days: int = Field(ge=1)
    sizes: dict[str, dict[str, int]]
    scenario: ScenarioFile = ScenarioFile()


def load_demo_file() -> DemoFile:
    return load(DemoFile, "demo.yaml")
