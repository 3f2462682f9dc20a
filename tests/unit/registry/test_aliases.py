"""Alias moves on a real MLflow registry: compare-and-set against the champion the gates saw, and a rolled-back
version that never comes back by itself."""

from __future__ import annotations

from datetime import date

import pytest

from ml_platform.errors import ChampionMoved
from ml_platform.policy import PromotionPolicy
from ml_platform.registry import CHAMPION, ModelRegistry, settle_promotion
from ml_platform.reports import Reports
from ml_platform.run_context import RunContext

MODEL = "aliases-test"
DAY = date(2026, 11, 20)
POLICY = PromotionPolicy.model_validate({"primary_metric": "roc_auc", "min_improvement": 0.0, "gates": []})


@pytest.fixture
def registry(settings, tmp_path) -> ModelRegistry:
    registry = ModelRegistry(settings)
    registry.client.create_registered_model(MODEL)
    for _ in range(3):
        registry.client.create_model_version(MODEL, source=(tmp_path / "model").as_uri())
    registry.set_alias(MODEL, CHAMPION, "1")
    return registry


def settle(registry: ModelRegistry, version: str, champion: str | None, run_id: str = "scheduled__x", attempt: int = 1):
    return settle_promotion(
        registry,
        model="aliases",
        registered_model=MODEL,
        pipeline="aliases_training",
        ctx=RunContext(DAY, "scheduled", run_id, "aliases_training", try_number=attempt),
        version=version,
        run_id=None,
        policy=POLICY,
        challenger_metrics={"roc_auc": 0.9},
        champion_version=champion,
        champion_metrics={"roc_auc": 0.8},
        facts={},
    )


def test_a_promotion_judged_against_another_champion_moves_nothing(registry: ModelRegistry) -> None:
    registry.set_alias(MODEL, CHAMPION, "2")  # a rollback or another decision ran meanwhile
    with pytest.raises(ChampionMoved, match="version 2, not 1") as moved:
        settle(registry, "3", champion="1")
    assert moved.value.retryable, "a retry judges again against the new champion"
    assert registry.alias_version(MODEL, CHAMPION) == "2"


def test_a_rolled_back_version_is_not_promoted_again(registry: ModelRegistry) -> None:
    registry.client.set_model_version_tag(MODEL, "2", "rolled_back", "2026-11-19: wrong on billing")
    decision = settle(registry, "2", champion="1")
    assert decision.verdict == "reject" and "was rolled back" in decision.reasons[0]
    assert registry.alias_version(MODEL, CHAMPION) == "1"
    assert settle(registry, "3", champion="1").verdict == "promote"
    assert registry.aliases(MODEL) == {"champion": "3", "previous": "1", "challenger": "2"}


def test_a_retry_after_the_aliases_moved_still_records_the_promotion(registry: ModelRegistry) -> None:
    # Attempt 1 moved the aliases and died before writing its record.
    assert registry.promote(MODEL, "3", expected_champion="1", airflow_run_id="scheduled__x")
    seen = registry.champion_seen_by(MODEL, "3", "scheduled__x")
    assert seen == "1", "the retry judges against the champion the first attempt replaced"
    decision = settle(registry, "3", champion=seen, attempt=2)
    assert (decision.verdict, decision.champion_before, decision.champion_after) == ("promote", "1", "3")
    assert "earlier attempt of this run" in decision.reasons[-1]
    assert registry.aliases(MODEL) == {"champion": "3", "previous": "1"}
    # Another run (a rerun of the date) sees the champion as it is: nothing left to decide.
    assert registry.champion_seen_by(MODEL, "3", "manual__y") == "3"
    assert settle(registry, "3", champion="3", run_id="manual__y").verdict == "unchanged"


def test_every_attempt_keeps_its_own_decision_record(registry: ModelRegistry, settings) -> None:
    settle(registry, "2", champion="1", attempt=1)
    settle(registry, "3", champion="2", attempt=2)
    settle(registry, "3", champion="3", run_id="manual__rerun")
    reports = Reports.at(settings.reports_uri)
    history = reports.history("aliases_training", DAY, "decision")
    assert [(d["airflow_run_id"], d["try_number"], d["verdict"]) for d in history] == [
        ("scheduled__x", 1, "promote"),
        ("scheduled__x", 2, "promote"),
        ("manual__rerun", 1, "unchanged"),
    ]
    assert all(d["recorded_at"] for d in history)
    assert reports.read_json("aliases_training", DAY, "decision") == history[-1], "the record points at the newest"
