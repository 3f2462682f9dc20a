"""Stand-ins for Airflow's task context and for domain steps, so the wiring can be tested without a scheduler."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ml_platform.errors import NotEnoughHistory


@dataclass
class FakeRun:
    dag_id: str = "churn_training"
    run_id: str = "scheduled__2026-11-21"
    run_type: str = "scheduled"
    logical_date: datetime | None = datetime(2026, 11, 21, 2, 30, tzinfo=UTC)
    run_after: datetime = datetime(2026, 11, 21, 2, 30, tzinfo=UTC)
    start_date: datetime | None = None


@dataclass
class FakeTaskInstance:
    task_id: str = "validate"
    log_url: str = "http://airflow/log"


@dataclass
class FakeEvent:
    extra: dict[str, Any] = field(default_factory=dict)


def context(run: FakeRun | None = None, **extra: Any) -> dict[str, Any]:
    run = run or FakeRun()
    return {
        "dag_run": run,
        "logical_date": run.logical_date,
        "task_instance": FakeTaskInstance(),
        "params": {},
        **extra,
    }


# Domain-shaped steps: (config, settings, ctx, *upstream) -> record.
def echo_step(config, settings, ctx, *upstream) -> dict[str, Any]:
    return {
        "config": config,
        "day": ctx.day.isoformat(),
        "run_type": ctx.run_type,
        "upstream": list(upstream),
        "lake": settings.lake_uri,
        "big": "x" * 1000,
    }


def no_history_step(config, settings, ctx) -> dict[str, Any]:
    raise NotEnoughHistory("2 landed day(s); at least 3 are needed")
