"""Settings of the pipelines that are not one model's: ingestion and monitoring (`pipelines/*.yaml`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, Literal

from pydantic import model_validator

from ml_platform.config.base import StrictModel, load

Source = Literal["demo", "landing"]


class IngestGroup(StrictModel):
    """Tables landed together by one ingest task, and where they come from."""

    name: str
    source: Source
    tables: tuple[str, ...]

    def for_run(self, params: Mapping[str, Any]) -> IngestGroup:
        """A manual run may pick the source ("config" keeps the file's)."""
        source = params.get("source") or "config"
        return self if source == "config" else self.model_copy(update={"source": source})


class IngestConfig(StrictModel):
    schedule: str
    start_date: date
    groups: dict[str, IngestGroup]
    raw_copy: bool = False  # keep the unredacted free text at RAW_URI (never in the lake)

    @model_validator(mode="before")
    @classmethod
    def _named_groups(cls, raw: Any) -> Any:
        """YAML writes groups as a mapping `name: spec`; each spec gets its name."""
        if isinstance(raw, dict) and isinstance(raw.get("groups"), dict):
            raw = {**raw, "groups": {k: {"name": k, **(v or {})} for k, v in raw["groups"].items()}}
        return raw

    @property
    def tables(self) -> list[str]:
        return [table for group in self.groups.values() for table in group.tables]


class MonitoringConfig(StrictModel):
    schedule: str
    start_date: date


def load_ingest_config() -> IngestConfig:
    return load(IngestConfig, "pipelines/ingest.yaml")


def load_monitoring_config() -> MonitoringConfig:
    return load(MonitoringConfig, "pipelines/monitoring.yaml")
