"""The assistant's decide step on a real MLflow registry: it judges the evaluate task's record, so a champion
that moved since then cannot be fixed by retrying decide."""

from __future__ import annotations

from datetime import date

import pytest

from ml_platform.config.assistant import load_assistant_config
from ml_platform.errors import ChampionMoved
from ml_platform.pipelines.assistant import decide_step
from ml_platform.policy import PromotionPolicy
from ml_platform.registry import CHAMPION, ModelRegistry
from ml_platform.run_context import RunContext

DAY = date(2026, 11, 20)
POLICY = PromotionPolicy.model_validate(
    {"primary_metric": "hallucination_rate", "primary_direction": "lower", "min_improvement": 0.0, "gates": []}
)
METRICS = {"hallucination_rate": 0.1}


def test_a_champion_moved_since_evaluate_fails_decide_without_retry(settings, tmp_path) -> None:
    config = load_assistant_config().model_copy(update={"promotion": POLICY})
    registry = ModelRegistry(settings)
    registry.client.create_registered_model(config.registered_model)
    for _ in range(3):
        registry.client.create_model_version(config.registered_model, source=(tmp_path / "model").as_uri())
    registry.set_alias(config.registered_model, CHAMPION, "2")  # moved after evaluate compared against 1
    trained = {"version": "3", "run_id": None, "index": "kb_20261120"}
    evaluation = {"champion_version": "1", "models": {"challenger": METRICS, "champion": METRICS, "base": METRICS}}
    ctx = RunContext(DAY, "scheduled", "scheduled__x", config.pipeline)
    with pytest.raises(ChampionMoved, match="clear the evaluate task") as moved:
        decide_step(config, settings, ctx, trained, evaluation)
    assert not moved.value.retryable, "every retry would judge the same stale evaluation"
    assert registry.alias_version(config.registered_model, CHAMPION) == "2"
