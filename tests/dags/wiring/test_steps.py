"""The one-line task: lazy import, config from the form, settings, run context, upstream records, asset
events and trimming of what goes to XCom; typed failures pass through unchanged."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from airflow.sdk import Asset, Metadata
from wiring.steps import announce_when, step

from ml_platform.errors import NotEnoughHistory
from tests.dags.wiring.fakes import context

FAKES = "tests.dags.wiring.fakes"


def run(task, *upstream: Any, **ctx: Any) -> tuple[list[Any], Any]:
    """Drive a task's callable as Airflow's runner does: (yielded values, returned record)."""
    produced = task.function(*upstream, **ctx)
    yielded = []
    while True:
        try:
            yielded.append(next(produced))
        except StopIteration as done:
            return yielded, done.value


def test_a_step_gets_its_config_settings_context_and_upstream_records(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("LAKE_URI", str(tmp_path / "lake"))
    seen = []

    def configure(params):
        seen.append(params)
        return SimpleNamespace(days=params.get("train_days", 10))

    task = step(f"{FAKES}.echo_step", configure, keep=("config", "day", "run_type", "upstream", "lake"))
    events, record = run(task, {"version": "3"}, **context(params={"train_days": 5}))
    assert events == [] and seen == [{"train_days": 5}]
    assert record["config"].days == 5 and record["day"] == "2026-11-21" and record["run_type"] == "scheduled"
    assert record["upstream"] == [{"version": "3"}] and record["lake"] == str(tmp_path / "lake")
    assert "big" not in record, "only the kept fields go to XCom"


def test_kept_fields_a_record_lacks_go_as_none() -> None:
    # A model without a champion yet records no drift figures; the task must not fail on their absence.
    _, record = run(step(f"{FAKES}.echo_step", keep=("day", "share_drifted")), **context())
    assert record == {"day": "2026-11-21", "share_drifted": None}


def test_a_step_announces_its_record_on_its_assets() -> None:
    asset = Asset(name="lake.churn", uri="lake://churn")
    task = step(f"{FAKES}.echo_step", None, announce=lambda record: [(asset, {"dt": record["day"]})])
    events, record = run(task, **context())
    assert events == [Metadata(asset, {"dt": "2026-11-21"})]
    assert record["big"] == "x" * 1000, "without keep, the whole record is returned"


def test_the_task_id_is_the_steps_name() -> None:
    assert step(f"{FAKES}.echo_step")(**{}).operator.task_id == "echo"


def test_a_typed_failure_passes_through_with_its_fields() -> None:
    with pytest.raises(NotEnoughHistory) as failure:
        run(step(f"{FAKES}.no_history_step"), **context())
    assert (failure.value.gate, failure.value.retryable) == ("training_history", False)


def test_announce_when_skips_unless_the_flag_is_set() -> None:
    from airflow.sdk.exceptions import AirflowSkipException

    asset = Asset(name="drift.churn", uri="drift://churn")
    task = announce_when("retrain", asset, lambda r: {"dt": r["day"]}, task_id="trigger")
    with pytest.raises(AirflowSkipException):
        run(task, {"retrain": False, "day": "2026-11-21"})
    events, _ = run(task, {"retrain": True, "day": "2026-11-21"})
    assert events == [Metadata(asset, {"dt": "2026-11-21"})]
