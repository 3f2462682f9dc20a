"""What a pipeline step needs to know about the orchestrator's run, without importing Airflow."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from types import MappingProxyType
from typing import Any

from ml_platform.errors import BadInput

MIN_REASON_CHARS = 10  # a force-promote or a rollback must say why, in words


@dataclass(frozen=True)
class RunContext:
    day: date
    run_type: str  # scheduled | manual | backfill | asset_triggered | local
    airflow_run_id: str = "local"
    dag_id: str = ""
    task_id: str = ""
    params: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    try_number: int = 1  # which attempt of this task this is (a retry, or a clear of the same run, counts up)

    def __post_init__(self) -> None:
        today = datetime.now(UTC).date()
        if self.day > today:
            # A model trained "for" a future date would outrank every normal run until that date comes.
            raise BadInput(f"run date {self.day} is in the future (today is {today} UTC): nothing is run for it")

    @property
    def is_backfill(self) -> bool:
        return self.run_type == "backfill"

    def written_reason(self, param: str, what: str) -> str:
        """The run's form value `param`, which must explain `what` in words."""
        reason = str(self.params.get(param) or "").strip()
        if len(reason) < MIN_REASON_CHARS:
            raise BadInput(f"{what} needs a {param} of at least {MIN_REASON_CHARS} characters")
        return reason

    @property
    def force_reason(self) -> str | None:
        """The written reason of a manual force-promote, or None. A force needs a real reason and a manual run."""
        if not self.params.get("force_promote"):
            return None
        reason = self.written_reason("force_reason", "force_promote")
        if self.run_type != "manual":
            raise BadInput(f"force-promote is for manual runs only; this is a {self.run_type} run")
        return reason
