"""The schema-generated GX suite: clean partitions pass, and every bad-data kind trips its own expectation."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, datetime

import pandas as pd
import pytest

from ml_platform.config.datasets import load_schema
from ml_platform.datasets.churn import generate_churn
from ml_platform.datasets.common import rng_for
from ml_platform.datasets.fraud import generate_fraud
from ml_platform.datasets.scenario import BAD_DATA_KINDS, Scenario, inject_bad_data
from ml_platform.errors import ValidationFailed
from ml_platform.validation import (
    ValidationOutcome,
    build_suite,
    label_share_column,
    validate_partition,
)

DAY = date(2026, 11, 20)
SEED = 3
EXPECTATION_OF_KIND = {
    "missing_column": "expect_table_columns_to_match_set",
    "null_burst": "expect_column_values_to_not_be_null",
    "out_of_range": "expect_column_values_to_be_between",
    "unknown_category": "expect_column_values_to_be_in_set",
    "duplicate_ids": "expect_column_values_to_be_unique",
    "label_collapse": "expect_column_mean_to_be_between",
    "too_few_rows": "expect_table_row_count_to_be_between",
}


@pytest.fixture(scope="module")
def clean() -> dict[str, pd.DataFrame]:
    churn, _ = generate_churn(DAY, SEED, Scenario(), rows=800, population=3000)
    fraud, _ = generate_fraud(DAY, SEED, Scenario(), rows=3000, customers=500, merchants=60)
    return {"churn": churn, "fraud": fraud}


def _corrupted_column(clean: pd.DataFrame, bad: pd.DataFrame) -> str | None:
    """The one column an injection dropped or rewrote (None when it cut rows instead)."""
    if len(bad) != len(clean):
        return None
    changed = [c for c in clean.columns if c not in bad.columns or not clean[c].equals(bad[c])]
    assert len(changed) == 1, changed
    return changed[0]


def test_import_does_not_load_great_expectations_or_airflow() -> None:
    code = "import sys, ml_platform.validation; print(sorted({m.split('.')[0] for m in sys.modules}))"
    loaded = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert "great_expectations" not in loaded and "airflow" not in loaded


def test_suite_is_generated_from_the_schema() -> None:
    schema = load_schema("fraud")
    by_key = {(e.expectation_type, getattr(e, "column", None)): e for e in build_suite(schema, DAY).expectations}
    columns = by_key[("expect_table_columns_to_match_set", None)]
    assert set(columns.column_set) == {*schema.column_names, label_share_column(schema)} and columns.exact_match
    assert by_key[("expect_column_values_to_not_be_null", "seconds_since_last_txn")].mostly == pytest.approx(0.5)
    assert ("expect_column_values_to_be_unique", "transaction_id") in by_key
    assert by_key[("expect_column_values_to_match_regex", "merchant_id")].regex == r"^m\d{5}$"
    fresh = by_key[("expect_column_values_to_be_between", "event_time")]
    assert (fresh.min_value, fresh.max_value, fresh.strict_max) == (
        datetime(2026, 11, 20),
        datetime(2026, 11, 21),
        True,
    )
    label = by_key[("expect_column_mean_to_be_between", label_share_column(schema))]
    assert (label.min_value, label.max_value) == schema.label_rate


@pytest.mark.parametrize("dataset", ["churn", "fraud"])
def test_clean_partition_passes(clean: dict[str, pd.DataFrame], dataset: str) -> None:
    schema = load_schema(dataset)
    frame = clean[dataset]
    columns_before = list(frame.columns)
    outcome = validate_partition(frame, schema, DAY)
    assert outcome.success, outcome.error_message()
    assert outcome.failed == [] and outcome.evaluated == len(build_suite(schema, DAY).expectations)
    assert list(frame.columns) == columns_before  # the derived label column went on a copy


@pytest.mark.parametrize("dataset", ["churn", "fraud"])
@pytest.mark.parametrize("kind", BAD_DATA_KINDS)
def test_each_bad_data_kind_fails_its_own_expectation(clean: dict[str, pd.DataFrame], dataset: str, kind: str) -> None:
    schema = load_schema(dataset)
    bad = inject_bad_data(clean[dataset], kind, schema, rng_for(SEED, dataset, kind))
    outcome = validate_partition(bad, schema, DAY)
    message = outcome.error_message()
    assert not outcome.success
    assert message.startswith(f"{dataset} partition dt=2026-11-20 failed {len(outcome.failed)} of {outcome.evaluated}")
    hits = [f for f in outcome.failed if f.expectation == EXPECTATION_OF_KIND[kind]]
    assert hits, message
    failure = hits[0]
    column = _corrupted_column(clean[dataset], bad)
    if column is not None:
        assert column in message
    if kind == "missing_column":
        assert failure.observed == {"missing": [column], "unexpected": []}
    elif kind in ("null_burst", "out_of_range", "unknown_category", "duplicate_ids"):
        assert failure.column == column and failure.unexpected_count >= len(bad) // 5
    if kind in ("out_of_range", "unknown_category", "duplicate_ids"):
        injected = bad[column] if kind == "duplicate_ids" else bad[column][~bad[column].isin(clean[dataset][column])]
        sample = injected.tolist()[0]  # a Python scalar, as GX reports it
        assert sample in failure.sample_values and repr(sample) in message
    elif kind == "label_collapse":
        assert failure.column == label_share_column(schema) and failure.observed == 1.0
    elif kind == "too_few_rows":
        assert failure.observed == len(bad) and f"observed {len(bad)}" in message


def test_missing_column_is_reported_not_raised(clean: dict[str, pd.DataFrame]) -> None:
    schema = load_schema("churn")
    outcome = validate_partition(clean["churn"].drop(columns=["tenure"]), schema, DAY)
    # The column's own expectations cannot run; GX's error counts as a failure and is shown, not raised.
    errored = [f for f in outcome.failed if f.column == "tenure"]
    assert {f.expectation for f in errored} == {
        "expect_column_values_to_not_be_null",
        "expect_column_values_to_be_between",
    }
    assert all("does not exist" in f.observed["error"] for f in errored)
    assert outcome.failed[0].expectation == "expect_table_columns_to_match_set"
    assert "missing columns ['tenure']" in outcome.error_message()


def test_rows_of_another_day_fail_freshness(clean: dict[str, pd.DataFrame]) -> None:
    shifted = clean["fraud"].assign(event_time=clean["fraud"]["event_time"] + pd.Timedelta(days=1))
    outcome = validate_partition(shifted, load_schema("fraud"), DAY)
    assert [(f.expectation, f.column) for f in outcome.failed] == [("expect_column_values_to_be_between", "event_time")]
    failure = outcome.failed[0]
    assert failure.unexpected_count == len(shifted)
    assert failure.sample_values and all(v.startswith("2026-11-21") for v in failure.sample_values)
    assert "2026-11-21" in outcome.error_message()


def test_outcome_serialises_and_raises(clean: dict[str, pd.DataFrame]) -> None:
    schema = load_schema("fraud")
    bad = clean["fraud"].copy()
    bad.loc[3, "channel"] = "<script>x</script>"
    outcome = validate_partition(bad, schema, DAY)
    error = outcome.failure(report_url="file:///r/validation.html", quarantined_to="_quarantine/fraud")
    assert isinstance(error, ValidationFailed) and str(error) == outcome.error_message()
    assert (error.gate, error.retryable, error.report_url) == ("validation", False, "file:///r/validation.html")
    record = json.loads(json.dumps(outcome.as_record()))
    assert set(record) == {"dataset", "dt", "success", "evaluated", "failed"}
    assert record["failed"][0]["sample_values"] == ["<script>x</script>"]
    assert json.loads(json.dumps(outcome.result_json))["success"] is False
    page = outcome.html
    assert page.lstrip().startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "expect_column_values_to_be_in_set" in page and "Failed expectations" in page
    # Data values reach the page only escaped.
    assert "<script>x</script>" not in page and "&lt;script&gt;x&lt;/script&gt;" in page


def test_outcome_of_a_clean_partition_has_no_failures_table(clean: dict[str, pd.DataFrame]) -> None:
    outcome: ValidationOutcome = validate_partition(clean["churn"], load_schema("churn"), DAY)
    assert outcome.as_record()["failed"] == [] and "Failed expectations" not in outcome.html
    assert "churn partition dt=2026-11-20 failed 0 of" in outcome.error_message()
