"""Drift evaluation on the demo world: Evidently's per-column tests, verdicts, false alarms and embedding drift.

Reference = 5 clean days, drift onset on DAY 14; the 8 days before the onset are clean days that must not
alarm, the onset day itself must. Rows are kept small (Evidently costs ~1.3 s per report on 2 cores).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from functools import cache

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ml_platform.config.assistant import load_assistant_config
from ml_platform.config.datasets import DatasetSchema, load_schema
from ml_platform.config.tabular import load_model_config
from ml_platform.datasets.churn import generate_churn
from ml_platform.datasets.fraud import generate_fraud
from ml_platform.datasets.scenario import Scenario
from ml_platform.datasets.support import generate_support
from ml_platform.monitoring import drift as drift_module
from ml_platform.monitoring.drift import (
    DriftResult,
    embedding_drift,
    tabular_drift,
)

SEED = 7
ONSET = date(2026, 3, 14)
SCENARIO = Scenario(drift_onset=ONSET)
REFERENCE_DAYS = [date(2026, 3, 1) + timedelta(days=i) for i in range(5)]
CLEAN_DAYS = [ONSET - timedelta(days=i) for i in range(8, 0, -1)]  # 8 consecutive days right before the onset
KNOWN_TESTS = {
    "K-S p_value",
    "chi-square p_value",
    "Z-test p_value",
    "Wasserstein distance (normed)",
    "Jensen-Shannon distance",
}


class World:
    """One model's reference window, a champion fit on it, and cached drift results per day."""

    def __init__(self, name: str, generate: Callable[[date], pd.DataFrame]):
        self.name = name
        self.schema: DatasetSchema = load_schema(name)
        self.features = self.schema.feature_columns
        self.generate = generate
        self.reference = pd.concat([generate(d) for d in REFERENCE_DAYS], ignore_index=True)
        # A plain logistic regression on one-hot features stands in for the champion: drift logic only needs
        # a fixed scorer that was fit on the reference.
        self._columns: pd.Index | None = None
        self._columns = self._encode(self.reference).columns
        self.model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
        self.model.fit(self._encode(self.reference), self.schema.label_binary(self.reference))
        self.reference_scores = self.score(self.reference)
        self.check = cache(self._check)

    def _encode(self, frame: pd.DataFrame) -> pd.DataFrame:
        categorical = [c for c in self.features if not self.schema.column(c).numeric]
        encoded = pd.get_dummies(frame[self.features].fillna(0), columns=categorical, dtype=float)
        return encoded if self._columns is None else encoded.reindex(columns=self._columns, fill_value=0.0)

    def score(self, frame: pd.DataFrame) -> np.ndarray:
        return self.model.predict_proba(self._encode(frame))[:, 1]

    def _check(self, day: date) -> DriftResult:
        current = self.generate(day)
        return tabular_drift(
            self.name,
            day,
            self.reference,
            current,
            self.schema,
            self.features,
            self.reference_scores,
            self.score(current),
            share_threshold=load_model_config(self.name).monitoring.drift_share_threshold,
            reference_days=[d.isoformat() for d in REFERENCE_DAYS],
        )


@pytest.fixture(scope="module")
def churn() -> World:
    return World("churn", lambda d: generate_churn(d, SEED, SCENARIO, rows=1500, population=6000)[0])


@pytest.fixture(scope="module")
def fraud() -> World:
    return World("fraud", lambda d: generate_fraud(d, SEED, SCENARIO, rows=4000, customers=1500, merchants=200)[0])


def assert_well_formed(result: DriftResult, world: World) -> None:
    assert [f.column for f in result.features] == world.features
    for feature in result.features:
        assert feature.test in KNOWN_TESTS, feature
        assert np.isfinite(feature.score) and feature.threshold > 0
    assert result.drifted_features == [f.column for f in result.features if f.drifted]
    assert result.share_drifted == pytest.approx(len(result.drifted_features) / len(world.features))
    assert result.rows_reference == len(world.reference)
    assert result.reference_days == [d.isoformat() for d in REFERENCE_DAYS]


# -- churn -----------------------------------------------------------------------------------------------
def test_churn_no_false_alarms_over_eight_clean_days(churn: World) -> None:
    results = [churn.check(day) for day in CLEAN_DAYS]
    for result in results:
        assert_well_formed(result, churn)
        # The reference is > 1000 rows, so Evidently picks the large-sample distance tests.
        tests = {f.column: f.test for f in result.features}
        assert tests["MonthlyCharges"] == "Wasserstein distance (normed)"
        assert tests["Contract"] == "Jensen-Shannon distance"
        assert result.prediction_drift is not None and not result.prediction_drift.drifted
        assert result.live_quality is not None and result.live_quality["roc_auc"] > 0.6
    false_alarms = [r.day for r in results if r.verdict == "drifted"]
    assert false_alarms == [], [r.reasons for r in results if r.verdict == "drifted"]
    assert max(r.share_drifted for r in results) < load_model_config("churn").monitoring.drift_share_threshold


@pytest.mark.parametrize("day", [ONSET, ONSET + timedelta(days=1)])
def test_churn_drift_detected_from_the_onset_day(churn: World, day: date) -> None:
    result = churn.check(day)
    assert_well_formed(result, churn)
    assert result.verdict == "drifted"
    assert {"MonthlyCharges", "Contract", "InternetService"} & set(result.drifted_features)
    assert result.share_drifted >= load_model_config("churn").monitoring.drift_share_threshold
    # The scorer leans on tenure and price, both of which the promotion moved.
    assert result.prediction_drift is not None and result.prediction_drift.drifted
    assert result.prediction_drift.column == "prediction"
    assert any(r.startswith("prediction drift detected") for r in result.reasons)
    assert any("features drifted" in r and "MonthlyCharges" in r for r in result.reasons)
    assert result.target_drift is not None  # the label is in the current data


def test_churn_report_html_is_a_complete_page_naming_the_drifted_columns(churn: World) -> None:
    result = churn.check(ONSET)
    html = result.html
    assert html.lstrip().lower().startswith("<!doctype html") or html.lstrip().lower().startswith("<html")
    assert "</html>" in html.lower()
    for column in result.drifted_features:
        assert column in html


def test_as_dict_is_json_safe_and_leaves_out_the_html(churn: World) -> None:
    record = churn.check(ONSET).as_dict()
    assert "html" not in record
    assert record["drifted"] is True and record["verdict"] == "drifted"
    assert record["share_threshold"] == load_model_config("churn").monitoring.drift_share_threshold
    assert record["features"][0].keys() == {"column", "test", "score", "threshold", "drifted"}
    assert json.loads(json.dumps(record, allow_nan=False)) == record


def test_thresholds_drive_the_verdict(churn: World) -> None:
    current = churn.generate(ONSET)
    result = tabular_drift(
        "churn",
        ONSET,
        churn.reference,
        current,
        churn.schema,
        churn.features,
        churn.reference_scores,
        churn.score(current),
        share_threshold=1.0,
        prediction_threshold=10.0,
    )
    # Same drifted columns, but neither the share nor the score test reaches its (absurd) threshold.
    assert result.drifted_features and result.verdict == "stable"
    assert result.prediction_drift is not None and result.prediction_drift.threshold == 10.0
    assert not result.prediction_drift.drifted


def test_small_reference_without_scores_or_labels(churn: World) -> None:
    reference = churn.reference.iloc[:800]
    current = churn.generate(ONSET).drop(columns=[churn.schema.label_column]).iloc[:600]
    result = tabular_drift("churn", ONSET, reference, current, churn.schema, churn.features, None, None, 0.1)
    # Up to 1000 reference rows Evidently switches to p-value tests; types come from the schema.
    tests = {f.column: f.test for f in result.features}
    assert tests["MonthlyCharges"] == "K-S p_value"
    assert tests["Contract"] == "chi-square p_value"
    assert tests["gender"] == "Z-test p_value"
    assert result.prediction_drift is None and result.target_drift is None and result.live_quality is None
    assert "no champion scores" in " ".join(result.reasons)
    assert result.verdict == "drifted" and "MonthlyCharges" in result.drifted_features


def test_large_inputs_are_sampled_deterministically(churn: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(drift_module, "MAX_TABULAR_ROWS", 1200)
    current = churn.generate(CLEAN_DAYS[0])
    first, second = (
        tabular_drift("churn", CLEAN_DAYS[0], churn.reference, current, churn.schema, churn.features, None, None, 0.1)
        for _ in range(2)
    )
    assert first.rows_reference == len(churn.reference)  # the input size is reported, not the sample's
    assert [f.score for f in first.features] == [f.score for f in second.features]


def test_only_numeric_and_category_features_are_accepted(churn: World) -> None:
    with pytest.raises(ValueError, match="customerID"):
        tabular_drift("churn", ONSET, churn.reference, churn.reference, churn.schema, ["customerID"], None, None, 0.1)


def test_a_missing_feature_column_is_named(churn: World) -> None:
    current = churn.reference.drop(columns=["tenure"])
    with pytest.raises(ValueError, match="tenure"):
        tabular_drift("churn", ONSET, churn.reference, current, churn.schema, churn.features, None, None, 0.1)


# -- fraud -----------------------------------------------------------------------------------------------
def test_fraud_features_exclude_ids_keys_and_time(fraud: World) -> None:
    assert not {"transaction_id", "customer_id", "merchant_id", "event_time", "is_fraud"} & set(fraud.features)


def test_fraud_no_false_alarms_over_eight_clean_days(fraud: World) -> None:
    results = [fraud.check(day) for day in CLEAN_DAYS]
    for result in results:
        assert_well_formed(result, fraud)
        assert result.prediction_drift is not None and not result.prediction_drift.drifted
    assert [r.day for r in results if r.verdict == "drifted"] == []
    assert max(r.share_drifted for r in results) == 0.0


@pytest.mark.parametrize("day", [ONSET, ONSET + timedelta(days=1)])
def test_fraud_drift_detected_from_the_onset_day(fraud: World, day: date) -> None:
    result = fraud.check(day)
    assert_well_formed(result, fraud)
    assert result.verdict == "drifted"
    # More online shopping after the onset: the channel mix is what moves.
    assert "channel" in result.drifted_features
    assert {f.column: f.test for f in result.features}["channel"] == "Jensen-Shannon distance"


# -- embeddings ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def questions() -> dict[str, np.ndarray]:
    embeddings = pytest.importorskip("ml_platform.embeddings")
    embedder = embeddings.get_embedder()

    def chats(day: date) -> list[str]:
        return generate_support(day, SEED, SCENARIO)[0]["support_chats"]["question"].tolist()

    reference = generate_support(ONSET - timedelta(days=5), SEED, SCENARIO)[0]["support_eval"]["question"].tolist()
    return {
        "reference": embedder.embed(reference),
        "before": embedder.embed(chats(ONSET - timedelta(days=4))),
        "after": embedder.embed(chats(ONSET + timedelta(days=1))),
    }


def test_embedding_drift_only_after_the_topic_shift(questions: dict[str, np.ndarray]) -> None:
    threshold = load_assistant_config().monitoring.embedding_drift_threshold
    before = embedding_drift(questions["reference"], questions["before"], threshold)
    after = embedding_drift(questions["reference"], questions["after"], threshold)
    assert before.method == after.method == "mmd"
    assert before.threshold == threshold
    assert not before.drifted and before.score < before.threshold
    assert after.drifted and after.score > 2 * before.score
    assert after.html is not None and "</html>" in after.html.lower()


def test_embedding_drift_checks_its_inputs() -> None:
    with pytest.raises(ValueError, match="dimension"):
        embedding_drift(np.zeros((5, 4)), np.zeros((5, 3)), 0.02)
