"""What lands in the lake and how often: the ingest config and the tables of each group.

Light on purpose (YAML only, no pandas): DAG files read it while they are parsed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

import yaml

CONFIG_DIR = Path(__file__).resolve().parent / "configs"

GROUP_TABLES: dict[str, tuple[str, ...]] = {
    "churn": ("churn",),
    "fraud": ("fraud",),
    "support": ("support_kb", "support_qa", "support_eval", "support_chats"),
}
SOURCES = ("demo", "landing")


@dataclass(frozen=True)
class IngestConfig:
    schedule: str
    start_date: date
    sources: dict[str, str]


@cache
def load_ingest_config() -> IngestConfig:
    raw = yaml.safe_load((CONFIG_DIR / "pipelines" / "ingest.yaml").read_text())
    sources = {group: spec["source"] for group, spec in raw["groups"].items()}
    for group, source in sources.items():
        if group not in GROUP_TABLES or source not in SOURCES:
            raise ValueError(
                f"ingest.yaml: group {group!r} source {source!r}; groups {list(GROUP_TABLES)}, sources {SOURCES}"
            )
    return IngestConfig(raw["schedule"], date.fromisoformat(str(raw["start_date"])), sources)
