"""Every partition training and monitoring read has passed validation: history days a backfill left unchecked
are validated (once per content hash) and a failing one is quarantined and left out of the model."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from ml_platform.config.datasets import load_schema
from ml_platform.config.tabular import load_model_config
from ml_platform.datasets.churn import generate_churn
from ml_platform.datasets.scenario import Scenario, inject_bad_data
from ml_platform.errors import ValidationFailed
from ml_platform.lake import Lake
from ml_platform.pipelines import screening
from ml_platform.pipelines.screening import require_valid, screen_history
from ml_platform.pipelines.tabular import train_step
from ml_platform.run_context import RunContext

DAY = date(2026, 11, 20)
BAD = DAY - timedelta(days=3)


@pytest.fixture
def lake(settings) -> Lake:
    """Seven days of churn landed without any validate task having run; one history day has blank labels."""
    lake = Lake.at(settings.lake_uri)
    for offset in range(6, -1, -1):
        day = DAY - timedelta(days=offset)
        frame = generate_churn(day, 1, Scenario(), rows=400, population=2000)[0]
        if day == BAD:
            frame = inject_bad_data(frame, "label_collapse", load_schema("churn"), np.random.default_rng(0))
        lake.write("churn", day, frame)
    return lake


def ctx() -> RunContext:
    return RunContext(DAY, "scheduled", "scheduled__t", "churn_training")


def test_a_bad_history_day_is_quarantined_and_left_out_of_training(settings, lake: Lake) -> None:
    config = load_model_config("churn").for_run({"train_days": 6, "hyperparameters": {"n_estimators": 20}})
    record = train_step(config, settings, ctx())
    assert [p["dt"] for p in record["quarantined_history"]] == [BAD.isoformat()]
    assert record["quarantined_history"][0]["failed"][0].startswith("expect_column_mean_to_be_between on _Churn_is_Yes")
    assert not lake.exists("churn", BAD) and lake.quarantined("churn")[0]["dt"] == BAD.isoformat()
    assert record["train_rows"] == 4 * 400, "the model learned from the five good history days minus early stopping"


def test_a_verdict_is_kept_by_content_hash_and_never_computed_twice(settings, lake: Lake, monkeypatch) -> None:
    days = [DAY - timedelta(days=d) for d in (6, 5, 4)]
    assert screen_history(settings, "churn", days, "churn_training", ctx()) == []

    def no_validation(*args, **kwargs):
        raise AssertionError("validated again although its verdict was kept")

    monkeypatch.setattr(screening, "validate_and_remember", no_validation)
    assert screen_history(settings, "churn", days, "churn_training", ctx()) == []
    # Other rows under the same date are validated afresh: a verdict belongs to its content hash.
    lake.write("churn", days[0], generate_churn(days[0], 2, Scenario(), rows=400, population=2000)[0])
    with pytest.raises(AssertionError, match="validated again"):
        screen_history(settings, "churn", days, "churn_training", ctx())


def test_the_day_a_step_is_about_must_pass(settings, lake: Lake) -> None:
    with pytest.raises(ValidationFailed, match=f"churn partition dt={BAD}") as failed:
        require_valid(settings, "churn", BAD, "model_monitoring", ctx())
    assert failed.value.report_url.endswith(f"validation-churn-{BAD}.html")
    assert not lake.exists("churn", BAD)


@pytest.mark.parametrize(
    ("pipeline", "report"),
    [("model_monitoring", f"validation-churn-{BAD}.html"), ("churn_training", "validation.html")],
)
def test_a_report_in_a_folder_shared_by_models_names_its_dataset(settings, lake: Lake, pipeline, report) -> None:
    own_day = RunContext(BAD, "scheduled", "scheduled__t", pipeline)
    with pytest.raises(ValidationFailed) as failed:
        require_valid(settings, "churn", BAD, pipeline, own_day)
    assert failed.value.report_url.endswith(f"/{pipeline}/{BAD}/{report}")


def test_a_day_another_task_quarantined_first_fails_without_retry(settings, lake: Lake) -> None:
    other = RunContext(DAY, "scheduled", "scheduled__monitor", "model_monitoring")
    with pytest.raises(ValidationFailed):
        require_valid(settings, "churn", BAD, "model_monitoring", other)
    with pytest.raises(ValidationFailed, match=f"churn partition dt={BAD} was quarantined by model_monitoring") as late:
        require_valid(settings, "churn", BAD, "churn_training", ctx())
    assert not late.value.retryable and late.value.quarantined_to == lake.quarantined("churn", BAD)[0]["folder"]
    assert screen_history(settings, "churn", [BAD], "churn_training", ctx()) == []


def test_two_tasks_screening_one_day_at_once_both_see_its_failure(settings, lake: Lake, monkeypatch) -> None:
    validate = screening.validate_and_remember
    other = RunContext(DAY, "scheduled", "scheduled__monitor", "model_monitoring")

    def validated_while_the_other_task_quarantines(*args, **kwargs):
        outcome = validate(*args, **kwargs)
        monkeypatch.setattr(screening, "validate_and_remember", validate)
        with pytest.raises(ValidationFailed):  # the other task validates and quarantines first
            require_valid(settings, "churn", BAD, "model_monitoring", other)
        return outcome

    monkeypatch.setattr(screening, "validate_and_remember", validated_while_the_other_task_quarantines)
    with pytest.raises(ValidationFailed, match=f"churn partition dt={BAD} failed") as lost:
        require_valid(settings, "churn", BAD, "churn_training", ctx())
    [record] = lake.quarantined("churn", BAD)
    assert lost.value.quarantined_to == record["folder"] and record["pipeline"] == "model_monitoring"


def test_a_retry_of_training_still_names_the_history_days_its_first_attempt_left_out(settings, lake: Lake) -> None:
    config = load_model_config("churn").for_run({"train_days": 6, "hyperparameters": {"n_estimators": 20}})
    first = train_step(config, settings, ctx())
    retry = train_step(config, settings, RunContext(DAY, "scheduled", "scheduled__t", "churn_training", try_number=2))
    assert retry["quarantined_history"] == first["quarantined_history"]
    assert [p["dt"] for p in retry["quarantined_history"]] == [BAD.isoformat()]
    rerun = train_step(config, settings, RunContext(DAY, "manual", "manual__rerun", "churn_training"))
    assert rerun["quarantined_history"] == [], "another run's quarantine is not this run's doing"


def test_a_changed_suite_leaves_history_that_passed_its_own_suite_in_place(settings, lake: Lake, monkeypatch) -> None:
    days = [DAY - timedelta(days=d) for d in (6, 5, 4)]
    assert screen_history(settings, "churn", days, "churn_training", ctx()) == []
    tightened = load_schema("churn").model_copy(update={"rows": (500, 1_000_000)})  # the days hold 400 rows
    monkeypatch.setattr(screening, "load_schema", lambda dataset: tightened)
    left_out = screen_history(settings, "churn", days, "churn_training", ctx())
    assert [p["dt"] for p in left_out] == [d.isoformat() for d in days]
    assert all(p["left_in_place"].startswith("passed suite r") for p in left_out)
    assert all(lake.exists("churn", d) for d in days) and lake.quarantined("churn") == []


def test_editing_a_schema_description_keeps_the_kept_verdicts(lake: Lake) -> None:
    from ml_platform.validation import suite_version

    schema = load_schema("churn")
    assert suite_version(schema.model_copy(update={"description": "reworded"})) == suite_version(schema)
    assert suite_version(schema.model_copy(update={"rows": (500, 1_000_000)})) != suite_version(schema)
