"""Demo generators for the tabular models: schema, determinism, plausible rates, learnable signal, drift."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score

from ml_platform.config.datasets import load_schema
from ml_platform.datasets.churn import generate_churn
from ml_platform.datasets.fraud import generate_fraud
from ml_platform.datasets.scenario import Scenario

DAY = date(2026, 11, 20)
CLEAN = Scenario()


def churn(day: date = DAY, seed: int = 1, scenario: Scenario = CLEAN, rows: int = 1500):
    return generate_churn(day, seed, scenario, rows=rows, population=6000)


def fraud(day: date = DAY, seed: int = 1, scenario: Scenario = CLEAN, rows: int = 6000):
    return generate_fraud(day, seed, scenario, rows=rows, customers=1500, merchants=200)


GENERATORS = {"churn": churn, "fraud": fraud}


@pytest.mark.parametrize("name", GENERATORS)
def test_columns_types_and_vocabularies_match_the_schema(name: str) -> None:
    frame, _ = GENERATORS[name]()
    schema = load_schema(name)
    assert list(frame.columns) == schema.column_names
    assert frame[schema.id_column].is_unique
    for spec in schema.columns:
        column = frame[spec.name]
        if spec.values is not None:
            assert set(column.dropna()) <= set(spec.values), spec.name
        if spec.numeric:
            assert pd.api.types.is_numeric_dtype(column), spec.name
            values = column.dropna()
            assert spec.min is None or values.min() >= spec.min, spec.name
            assert spec.max is None or values.max() <= spec.max, spec.name
        assert column.isna().mean() <= spec.max_null_fraction, spec.name
        if spec.pattern:
            assert column.astype(str).str.match(spec.pattern).all(), spec.name


@pytest.mark.parametrize("name", GENERATORS)
def test_same_seed_and_date_give_identical_data(name: str) -> None:
    first, meta_1 = GENERATORS[name]()
    again, meta_2 = GENERATORS[name]()
    pd.testing.assert_frame_equal(first, again)
    assert meta_1 == meta_2
    other_seed, _ = GENERATORS[name](seed=2)
    other_day, _ = GENERATORS[name](day=DAY + timedelta(days=1))
    assert not first.equals(other_seed)
    assert not first.equals(other_day)


def test_churn_rate_and_telco_quirks() -> None:
    frame, meta = churn(rows=3000)
    rate = (frame["Churn"] == "Yes").mean()
    assert 0.15 < rate < 0.35
    assert abs(rate - meta["expected_label_rate"]) < 0.04
    # Real exports leave TotalCharges blank for customers in their first month.
    assert frame.loc[frame["tenure"] == 0, "TotalCharges"].isna().all()
    assert frame.loc[frame["tenure"] > 0, "TotalCharges"].notna().all()
    assert (frame.loc[frame["InternetService"] == "No", "OnlineSecurity"] == "No internet service").all()


def test_fraud_rate_is_realistic_and_velocity_features_are_consistent() -> None:
    frame, meta = fraud()
    assert 0.001 <= frame["is_fraud"].mean() <= 0.01
    assert 0.001 <= meta["expected_label_rate"] <= 0.01
    assert (frame["txn_count_24h"] >= frame["txn_count_1h"]).all()
    assert frame["event_time"].dt.date.eq(DAY).all()
    # The 24 h sum includes earlier transactions only, so it is non-negative and zero exactly when count is 0.
    assert ((frame["txn_count_24h"] == 0) == (frame["amount_sum_24h"] == 0)).all()
    # Fraud clusters: compromised cards show up as bursts.
    assert frame.loc[frame["is_fraud"] == 1, "txn_count_1h"].mean() > 2 * frame["txn_count_1h"].mean()


def _learned_auc(name: str, train_days: int) -> tuple[float, float]:
    schema = load_schema(name)
    days = [DAY - timedelta(days=k) for k in range(train_days, 0, -1)]
    rows = {"churn": 1500, "fraud": 15000}[name]  # fraud is rare: it needs more rows for enough positives
    train = pd.concat([GENERATORS[name](day=d, rows=rows)[0] for d in days])
    test, meta = GENERATORS[name](rows=rows)

    def features(frame: pd.DataFrame) -> pd.DataFrame:
        out = frame[schema.feature_columns].copy()
        for column in out.columns:
            if out[column].dtype == object:
                out[column] = out[column].astype("category")
        if "event_time" in frame:
            out["hour"] = frame["event_time"].dt.hour
        return out

    model = HistGradientBoostingClassifier(
        max_iter=200, learning_rate=0.05, min_samples_leaf=50, l2_regularization=1.0, categorical_features="from_dtype"
    )
    model.fit(features(train), schema.label_binary(train))
    auc = roc_auc_score(schema.label_binary(test), model.predict_proba(features(test))[:, 1])
    return auc, meta["oracle_roc_auc"]


@pytest.mark.slow
@pytest.mark.parametrize(("name", "train_days"), [("churn", 4), ("fraud", 5)])
def test_known_signal_is_learnable_close_to_the_best_achievable_auc(name: str, train_days: int) -> None:
    auc, oracle = _learned_auc(name, train_days)
    assert oracle > 0.75
    assert auc > 0.7, f"{name}: a plain model reaches only {auc:.3f}"
    assert auc <= oracle + 0.03, f"{name}: model {auc:.3f} beats the generator's truth {oracle:.3f}"
    assert auc / oracle > 0.88, f"{name}: {auc:.3f} is far below the best achievable {oracle:.3f}"


def test_churn_drift_moves_the_mix_and_the_churn_rate_after_onset_only() -> None:
    onset = Scenario(drift_onset=DAY)
    before, _ = churn(day=DAY - timedelta(days=1), scenario=onset, rows=3000)
    clean_before, _ = churn(day=DAY - timedelta(days=1), rows=3000)
    after, meta = churn(scenario=onset, rows=3000)
    clean_after, _ = churn(rows=3000)
    pd.testing.assert_frame_equal(before, clean_before)
    assert meta["drifted"]
    assert after["MonthlyCharges"].mean() > clean_after["MonthlyCharges"].mean() * 1.1
    assert (after["Contract"] == "Month-to-month").mean() > (clean_after["Contract"] == "Month-to-month").mean() + 0.05
    assert (after["Churn"] == "Yes").mean() > (clean_after["Churn"] == "Yes").mean() + 0.05


def test_fraud_drift_brings_contactless_fraud_after_onset() -> None:
    after, meta = fraud(scenario=Scenario(drift_onset=DAY), rows=12000)
    clean, _ = fraud(rows=12000)
    assert meta["drifted"]

    def contactless_share(frame: pd.DataFrame) -> float:
        return float(np.mean(frame.loc[frame["is_fraud"] == 1, "channel"] == "contactless"))

    assert contactless_share(after) > contactless_share(clean) + 0.15
