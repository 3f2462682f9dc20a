"""Alias moves on a real MLflow registry: compare-and-set against the champion the gates saw, and a rolled-back
version that never comes back by itself."""

from __future__ import annotations

from datetime import date

import pytest

from ml_platform.errors import ChampionMoved
from ml_platform.policy import PromotionPolicy
from ml_platform.registry import CHAMPION, ModelRegistry, settle_promotion
from ml_platform.run_context import RunContext

MODEL = "aliases-test"
POLICY = PromotionPolicy.model_validate({"primary_metric": "roc_auc", "min_improvement": 0.0, "gates": []})


@pytest.fixture
def registry(settings, tmp_path) -> ModelRegistry:
    registry = ModelRegistry(settings)
    registry.client.create_registered_model(MODEL)
    for _ in range(3):
        registry.client.create_model_version(MODEL, source=(tmp_path / "model").as_uri())
    registry.set_alias(MODEL, CHAMPION, "1")
    return registry


def settle(registry: ModelRegistry, version: str, champion: str | None):
    return settle_promotion(
        registry,
        model="aliases",
        registered_model=MODEL,
        pipeline="aliases_training",
        ctx=RunContext(date(2026, 11, 20), "scheduled", "scheduled__x", "aliases_training"),
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
