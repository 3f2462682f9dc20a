"""Tabular model logic: config, features, metrics and the time-based training split."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from ml_platform.config.base import config_dir, parse, read_yaml
from ml_platform.config.datasets import load_schema
from ml_platform.config.tabular import ModelConfig, load_model_config, model_names
from ml_platform.datasets.churn import generate_churn
from ml_platform.datasets.fraud import generate_fraud
from ml_platform.datasets.scenario import Scenario
from ml_platform.errors import NotEnoughHistory
from ml_platform.lake import Lake
from ml_platform.pipelines.tabular import training_key
from ml_platform.tabular.features import align, encode
from ml_platform.tabular.metrics import choose_threshold, evaluate, recall_at_fpr, top_decile_lift
from ml_platform.tabular.training import load_training_data, scale_pos_weight, train_and_evaluate

DAY = date(2026, 11, 20)


def test_both_models_are_configured_and_differ_only_in_config() -> None:
    assert model_names() == ["churn", "fraud"]
    churn, fraud = load_model_config("churn"), load_model_config("fraud")
    assert (churn.pipeline, fraud.registered_model) == ("churn_training", "fraud-xgboost")
    assert churn.threshold.strategy == "f1" and fraud.threshold.strategy == "cost"
    assert "top_decile_lift" in churn.metrics.extra and "recall_at_1pct_fpr" in fraud.metrics.extra


def test_overrides_change_the_fingerprint_and_leave_the_file_config_alone() -> None:
    base = load_model_config("churn")
    tuned = base.for_run({"train_days": 5, "hyperparameters": {"max_depth": 6}})
    assert tuned.window.train_days == 5 and tuned.model.hyperparameters["max_depth"] == 6
    assert tuned.model.hyperparameters["learning_rate"] == base.model.hyperparameters["learning_rate"]
    assert base.model.hyperparameters["max_depth"] == 4
    assert tuned.training_fingerprint() != base.training_fingerprint()
    assert base.for_run({}).training_fingerprint() == base.training_fingerprint()


def test_invalid_config_is_refused_with_the_reason() -> None:
    raw = read_yaml(config_dir() / "models/churn.yaml")
    with pytest.raises(ValueError, match=r"threshold\.strategy.*'median'"):
        parse(ModelConfig, {**raw, "threshold": {"strategy": "median"}}, "churn.yaml")
    with pytest.raises(ValueError, match="min_train_days"):
        parse(ModelConfig, {**raw, "window": {"train_days": 3, "min_train_days": 5}}, "churn.yaml")


def test_encoding_has_a_fixed_column_set_from_the_schema() -> None:
    config, schema = load_model_config("churn"), load_schema("churn")
    frame, _ = generate_churn(DAY, 1, Scenario(), rows=300, population=1000)
    full = encode(frame, schema, config)
    one_row = encode(frame.head(1), schema, config)
    assert list(full.columns) == list(one_row.columns)
    assert "Contract=Two year" in full.columns and "tenure" in full.columns
    assert not any(c.startswith("gender") for c in full.columns), "gender is excluded in the config"
    assert not any(c.startswith("customerID") or c.startswith("Churn") for c in full.columns)
    assert (full.filter(like="Contract=").sum(axis=1) == 1).all()
    assert align(full, ["tenure", "unknown"]).columns.tolist() == ["tenure", "unknown"]


def test_fraud_encoding_derives_hour_and_drops_keys_and_timestamp() -> None:
    config, schema = load_model_config("fraud"), load_schema("fraud")
    frame, _ = generate_fraud(DAY, 1, Scenario(), rows=500, customers=100, merchants=20)
    encoded = encode(frame, schema, config)
    assert encoded["hour_of_day"].between(0, 23).all()
    assert not {"customer_id", "merchant_id", "event_time", "transaction_id", "is_fraud"} & set(encoded.columns)


def test_metrics_and_thresholds_on_known_scores() -> None:
    config = load_model_config("churn")
    y = np.array([0] * 90 + [1] * 10)
    perfect = np.r_[np.linspace(0, 0.4, 90), np.linspace(0.6, 1, 10)]
    metrics = evaluate(y, perfect, choose_threshold(y, perfect, config), config)
    assert metrics["roc_auc"] == 1.0 and metrics["pr_auc"] == 1.0 and metrics["f1"] == 1.0
    assert metrics["top_decile_lift"] == pytest.approx(10.0)
    assert recall_at_fpr(y, perfect) == 1.0
    assert top_decile_lift(y, np.full(100, 0.5)) == pytest.approx(1.0)


def test_cost_threshold_flags_more_when_misses_cost_more() -> None:
    rng = np.random.default_rng(0)
    y = (rng.random(5000) < 0.05).astype(int)
    p = np.clip(0.05 + 0.3 * y + rng.normal(0, 0.1, 5000), 0, 1)
    fraud = load_model_config("fraud")
    cheap = fraud.threshold.model_copy(update={"cost_false_negative": fraud.threshold.cost_false_positive})
    cheap_misses = fraud.model_copy(update={"threshold": cheap})
    assert choose_threshold(y, p, fraud) < choose_threshold(y, p, cheap_misses)


def test_scale_pos_weight_modes() -> None:
    y = np.array([1] * 10 + [0] * 990)
    assert scale_pos_weight(y, "none") == 1.0
    assert scale_pos_weight(y, "balanced") == pytest.approx(99.0)
    assert scale_pos_weight(y, "sqrt_balanced") == pytest.approx(99.0**0.5)


@pytest.fixture
def churn_lake(tmp_path) -> Lake:
    lake = Lake.at(str(tmp_path / "lake"))
    for offset in range(6, -1, -1):
        day = DAY - timedelta(days=offset)
        lake.write("churn", day, generate_churn(day, 1, Scenario(), rows=600, population=3000)[0])
    return lake


def test_training_window_is_strictly_before_the_evaluation_day(churn_lake: Lake) -> None:
    config = load_model_config("churn").for_run({"train_days": 5})
    data = load_training_data(churn_lake, config, DAY)
    assert data.train_dates == [DAY - timedelta(days=d) for d in (5, 4, 3, 2)]
    assert data.valid_date == DAY - timedelta(days=1) and data.test_date == DAY
    assert [p["role"] for p in data.partitions] == ["train"] * 4 + ["early_stopping", "evaluation"]
    assert len(data.train) == 4 * 600 and len(data.test) == 600


def test_training_refuses_a_window_with_too_little_history(churn_lake: Lake) -> None:
    churn = load_model_config("churn")
    config = churn.model_copy(update={"window": churn.window.model_copy(update={"min_train_days": 8})})
    with pytest.raises(NotEnoughHistory, match="6 landed day"):
        load_training_data(churn_lake, config, DAY)


def test_sampling_caps_rows_per_day(churn_lake: Lake) -> None:
    config = load_model_config("churn").for_run({"train_days": 3, "sample_rows_per_day": 100})
    data = load_training_data(churn_lake, config, DAY)
    assert len(data.train) == 200 and len(data.valid) == 100 and len(data.test) == 100


@pytest.mark.slow
def test_training_learns_the_signal_and_is_deterministic(churn_lake: Lake) -> None:
    config = load_model_config("churn").for_run({"train_days": 6, "hyperparameters": {"n_estimators": 200}})
    data = load_training_data(churn_lake, config, DAY)
    first = train_and_evaluate(data, config)
    again = train_and_evaluate(data, config)
    assert first.metrics == again.metrics
    assert first.metrics["roc_auc"] > 0.7
    assert first.best_iteration < 200


def test_training_key_depends_on_config_and_data_only() -> None:
    config = load_model_config("churn")
    parts = [
        {"dt": "2026-11-19", "role": "train", "content_hash": "a"},
        {"dt": "2026-11-20", "role": "evaluation", "content_hash": "b"},
    ]
    assert training_key(config, parts) == training_key(config, [dict(p) for p in parts])
    assert training_key(config, parts) != training_key(config, [parts[0], {**parts[1], "content_hash": "c"}])
    assert training_key(config, parts) != training_key(config.for_run({"train_days": 3}), parts)


@pytest.mark.parametrize("model", ["churn", "fraud"])
@pytest.mark.parametrize("seed", range(5))
def test_the_vectorised_threshold_search_picks_what_scoring_each_candidate_picks(model: str, seed: int) -> None:
    """Same candidates, same winner as the definition: F1 (sklearn) or the expected cost of each threshold."""
    from sklearn.metrics import f1_score

    from ml_platform.tabular.metrics import expected_cost

    rng = np.random.default_rng(seed)
    y = rng.random(5000) < (0.3 if model == "churn" else 0.01)
    p = np.clip(rng.normal(0.3 + 0.3 * y, 0.2), 0, 1).round(3)  # ties, as real scores have
    config = load_model_config(model)
    candidates = np.unique(np.quantile(p, np.linspace(0.5, 0.9995, 400)))
    if config.threshold.strategy == "cost":
        expected = candidates[int(np.argmin([expected_cost(y, p, t, config) for t in candidates]))]
    else:
        expected = candidates[int(np.argmax([f1_score(y, p >= t, zero_division=0) for t in candidates]))]
    assert choose_threshold(y.astype(int), p, config) == pytest.approx(expected, abs=0)
