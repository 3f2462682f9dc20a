"""What a pipeline step needs to know about the orchestrator's run, without importing Airflow."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class RunContext:
    day: date
    run_type: str  # scheduled | manual | backfill | asset_triggered | local
    airflow_run_id: str = "local"
    dag_id: str = ""

    @property
    def is_backfill(self) -> bool:
        return self.run_type == "backfill"
