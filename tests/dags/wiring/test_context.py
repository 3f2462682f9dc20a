"""The run's partition date and RunContext, for every kind of run."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from wiring.context import partition_date, run_context, run_type

from ml_platform.errors import BadInput
from tests.dags.wiring.fakes import FakeEvent, FakeRun, context


def test_scheduled_and_backfill_runs_use_their_logical_date() -> None:
    assert partition_date(context(FakeRun(run_type="backfill"))) == "2026-11-21"


def test_an_asset_triggered_run_uses_the_date_its_event_names() -> None:
    run = FakeRun(run_type="asset_triggered", logical_date=None, run_after=datetime(2026, 11, 25, tzinfo=UTC))
    events = {"drift://churn": [FakeEvent({"dt": "2026-11-23", "share_drifted": 0.2})]}
    ctx = context(run, logical_date=None, triggering_asset_events=events)
    assert partition_date(ctx) == "2026-11-23"
    assert run_context(ctx).run_type == "asset_triggered"


def test_a_run_without_a_date_anywhere_uses_when_it_was_due() -> None:
    run = FakeRun(run_type="manual", logical_date=None, run_after=datetime(2026, 11, 24, 9, tzinfo=UTC))
    assert partition_date(context(run, logical_date=None, triggering_asset_events={"x": [FakeEvent()]})) == "2026-11-24"


def test_run_type_is_the_enum_value_in_lower_case() -> None:
    class Kind:
        value = "BACKFILL"

    assert run_type(context(FakeRun(run_type=Kind()))) == "backfill"


def test_run_context_carries_the_runs_identity_and_form_values() -> None:
    ctx = run_context(context(params={"train_days": 5}))
    assert (ctx.day, ctx.run_type, ctx.airflow_run_id, ctx.dag_id) == (
        date(2026, 11, 21),
        "scheduled",
        "scheduled__2026-11-21",
        "churn_training",
    )
    assert ctx.params["train_days"] == 5


def test_a_run_for_a_future_date_is_refused() -> None:
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    with pytest.raises(BadInput, match="in the future") as refused:
        run_context(context(FakeRun(logical_date=tomorrow)))
    assert refused.value.retryable is False
