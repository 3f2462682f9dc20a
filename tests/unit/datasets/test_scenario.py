"""Scenario switches: config and env parsing, and each bad-data kind breaking a partition its own way."""

from __future__ import annotations

from datetime import date

import pytest

from ml_platform.config.datasets import load_schema
from ml_platform.datasets.churn import generate_churn
from ml_platform.datasets.common import rng_for
from ml_platform.datasets.fraud import generate_fraud
from ml_platform.datasets.scenario import BAD_DATA_KINDS, BadData, Scenario, inject_bad_data, load_demo_config

DAY = date(2026, 11, 20)


def test_demo_config_defaults_and_env_overrides() -> None:
    default = load_demo_config(latest=DAY, env={})
    assert default.days == 14 and default.scenario == Scenario()
    custom = load_demo_config(
        latest=DAY,
        env={
            "DEMO_DRIFT_ONSET": "-5",
            "DEMO_BAD_DATA": "churn:2026-11-18:null_burst, fraud:2026-11-19:duplicate_ids",
            "DEMO_DAYS": "21",
            "DEMO_SCALE": "0.5",
        },
    )
    assert custom.scenario.drift_onset == date(2026, 11, 15)
    assert custom.scenario.bad_kinds("churn", date(2026, 11, 18)) == ["null_burst"]
    assert custom.scenario.bad_kinds("fraud", date(2026, 11, 19)) == ["duplicate_ids"]
    assert custom.scenario.bad_kinds("churn", date(2026, 11, 19)) == []
    assert custom.days == 21 and custom.size("churn", "rows") == 1500
    assert load_demo_config(latest=DAY, env={"DEMO_DRIFT_ONSET": "2026-11-01"}).scenario.drift_onset == date(
        2026, 11, 1
    )


def test_unknown_bad_data_kind_is_refused_with_the_known_kinds() -> None:
    with pytest.raises(ValueError, match="null_burst"):
        BadData("churn", DAY, "gremlins")


def test_drifted_is_false_before_onset_and_without_one() -> None:
    assert not Scenario().drifted(DAY)
    assert not Scenario(drift_onset=DAY).drifted(date(2026, 11, 19))
    assert Scenario(drift_onset=DAY).drifted(DAY)


def _clean(name: str):
    if name == "churn":
        return generate_churn(DAY, 3, Scenario(), rows=800, population=3000)[0]
    return generate_fraud(DAY, 3, Scenario(), rows=2000, customers=400, merchants=50)[0]


@pytest.mark.parametrize("name", ["churn", "fraud"])
@pytest.mark.parametrize("kind", BAD_DATA_KINDS)
def test_each_bad_data_kind_breaks_the_schema_in_its_own_way(name: str, kind: str) -> None:
    schema = load_schema(name)
    clean = _clean(name)
    bad = inject_bad_data(clean, kind, schema, rng_for(0, kind))
    if kind == "missing_column":
        assert set(schema.column_names) - set(bad.columns)
    elif kind == "null_burst":
        assert bad.isna().sum().sum() > clean.isna().sum().sum() + len(clean) // 10
    elif kind == "out_of_range":
        numeric = [c for c in schema.feature_columns if schema.column(c).numeric]
        assert any((bad[c] < schema.column(c).min).any() for c in numeric)
    elif kind == "unknown_category":
        categorical = [c for c in schema.feature_columns if schema.column(c).values]
        assert any(not set(bad[c].dropna()) <= set(schema.column(c).values) for c in categorical)
    elif kind == "duplicate_ids":
        assert not bad[schema.id_column].is_unique
    elif kind == "label_collapse":
        assert schema.label_binary(bad).mean() > schema.label_rate[1]
    elif kind == "too_few_rows":
        assert len(bad) < schema.row_count[0]
    assert len(clean) == len(_clean(name)), "injection must not modify its input"
