"""Every partition a step learns from or judges by has passed validation.

The nightly `validate` task checks the run's own day; training also reads a window of earlier days and
monitoring the champion's training days, which a backfill or a re-landed file may have left unchecked. Each
read is screened here: a verdict kept for the partition's content hash costs one footer read, anything else
is validated now. A failing history day is quarantined and left out (the step's record names it); a failing
day the step is about raises, after its quarantine.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from ml_platform import names
from ml_platform.config.datasets import DatasetSchema, load_schema
from ml_platform.errors import PartitionMissing, ValidationFailed
from ml_platform.lake import Lake, PartitionInfo
from ml_platform.reports import Reports
from ml_platform.run_context import RunContext
from ml_platform.settings import Settings
from ml_platform.validation import ValidationOutcome, passed_an_earlier_suite, passed_before, validate_and_remember

log = logging.getLogger(__name__)


def report_name(partition: PartitionInfo, pipeline: str, day: date) -> str:
    """A failed partition's report file under `pipeline`'s folder of `day`. Only a model's own training folder
    holds one dataset; a shared one (model_monitoring, every model's) needs the dataset in the name, or one
    model's report overwrites another's."""
    if partition.dt == day and names.is_training_pipeline(pipeline):
        return "validation.html"
    return f"validation-{partition.dataset}-{partition.dt}.html"


def _write_report(
    settings: Settings, outcome: ValidationOutcome, partition: PartitionInfo, pipeline: str, ctx: RunContext
) -> str:
    name = report_name(partition, pipeline, ctx.day)
    return Reports.at(settings.reports_uri).write_bytes(pipeline, ctx.day, name, outcome.html.encode())


def quarantine_failed(
    settings: Settings, outcome: ValidationOutcome, partition: PartitionInfo, pipeline: str, ctx: RunContext
) -> tuple[str, str]:
    """Store the failed partition's report under the run's records and move exactly those rows aside;
    returns (quarantine folder, report URL)."""
    html_url = _write_report(settings, outcome, partition, pipeline, ctx)
    folder = Lake.at(settings.lake_uri).quarantine(
        partition.dataset,
        partition.dt,
        {
            "reason": "validation failed",
            "pipeline": pipeline,
            "airflow_run_id": ctx.airflow_run_id,
            "failed": [f.expectation + (f" on {f.column}" if f.column else "") for f in outcome.failed],
            "details": [f.describe() for f in outcome.failed],
            "rows": partition.rows,
            "validation_report": html_url,
        },
        expected_hash=partition.content_hash,
    )
    log.error("%s\nquarantined to %s", outcome.error_message(), folder)
    return folder, html_url


def screen_history(
    settings: Settings, dataset: str, days: Iterable[date | str], pipeline: str, ctx: RunContext
) -> list[dict[str, Any]]:
    """Validate the earlier days a step reads; failing ones are quarantined, or left in place (`left_in_place`)
    when they passed the suite of their time. Returns the days left out of this run."""
    lake, schema = Lake.at(settings.lake_uri), load_schema(dataset)
    left_out = []
    for day in days:
        try:
            screened = _screen_day(lake, schema, dataset, day)
        except PartitionMissing:
            if quarantine_record(lake, dataset, day) is None:
                raise
            continue  # a concurrent task quarantined it meanwhile: readers list what is there
        if screened is None:
            continue
        outcome, partition = screened
        earlier_suite = passed_an_earlier_suite(lake, schema, partition)
        if earlier_suite:
            left_out.append(_left_in_place(settings, outcome, partition, earlier_suite, pipeline, ctx))
            continue
        folder, _ = quarantine_failed(settings, outcome, partition, pipeline, ctx)
        left_out.append(
            partition.as_dict() | {"failed": [f.describe() for f in outcome.failed], "quarantined_to": folder}
        )
        log.warning("%s/dt=%s failed validation and is left out of this run", dataset, partition.dt)
    return left_out


def _left_in_place(
    settings: Settings, outcome: ValidationOutcome, partition: PartitionInfo, suite: str, pipeline: str, ctx: RunContext
) -> dict[str, Any]:
    """A history day that passed the suite of its time and fails today's: the suite changed, not the rows, so
    they stay in the lake (a tightened suite must not empty the history) and only this run leaves them out."""
    html_url = _write_report(settings, outcome, partition, pipeline, ctx)
    log.warning(
        "%s/dt=%s passed suite %s but fails the current one: left out of this run, not quarantined (report %s)",
        partition.dataset,
        partition.dt,
        suite,
        html_url,
    )
    return partition.as_dict() | {
        "failed": [f.describe() for f in outcome.failed],
        "left_in_place": f"passed suite {suite}; fails the current suite",
        "validation_report": html_url,
    }


def quarantined_by_run(lake: Lake, dataset: str, days: Iterable[date], airflow_run_id: str) -> list[dict[str, Any]]:
    """The days among `days` that this Airflow run quarantined (any attempt), from the quarantine records: a
    retry finds nothing left to quarantine, yet its record must still name what the first attempt left out."""
    return [
        {
            "dataset": dataset,
            "dt": record["dt"],
            "rows": record.get("rows"),
            "content_hash": record.get("content_hash"),
            "failed": record.get("details", record.get("failed", [])),
            "quarantined_to": record["folder"],
        }
        for day in days
        for record in lake.quarantined(dataset, day)
        # A left-in-place record moved nothing: the day's re-landed rows were not left out.
        if record.get("airflow_run_id") == airflow_run_id and "left_in_place" not in record
    ]


def _screen_day(
    lake: Lake, schema: DatasetSchema, dataset: str, day: date | str
) -> tuple[ValidationOutcome, PartitionInfo] | None:
    """A history day's failed outcome, or None when it is absent or passes (now or before)."""
    if not lake.exists(dataset, day) or passed_before(lake, schema, lake.info(dataset, day)):
        return None  # absent: already quarantined, or never landed (readers list what is there)
    frame, partition = lake.load(dataset, day)
    outcome = validate_and_remember(lake, schema, frame, partition)
    if outcome.success:
        log.info("%s/dt=%s: validated now (no verdict was kept for its rows)", dataset, partition.dt)
        return None
    return outcome, partition


def require_valid(settings: Settings, dataset: str, day: date, pipeline: str, ctx: RunContext) -> None:
    """The day a step is about must pass: a failure is quarantined and raised (not retryable)."""
    lake, schema = Lake.at(settings.lake_uri), load_schema(dataset)
    with quarantined_meanwhile(lake, dataset, day):
        if passed_before(lake, schema, lake.info(dataset, day)):
            return
        frame, partition = lake.load(dataset, day)
    outcome = validate_and_remember(lake, schema, frame, partition)
    if not outcome.success:
        folder, html_url = quarantine_failed(settings, outcome, partition, pipeline, ctx)
        raise outcome.failure(report_url=html_url, quarantined_to=folder)


def quarantine_record(lake: Lake, dataset: str, day: date | str) -> dict[str, Any] | None:
    """The newest quarantine record of a partition that is gone from the lake, or None."""
    records = [] if lake.exists(dataset, day) else lake.quarantined(dataset, day)
    return records[-1] if records else None


@contextmanager
def quarantined_meanwhile(lake: Lake, dataset: str, day: date) -> Iterator[None]:
    """Reading a partition a concurrent task (another monitor of the dataset, or training) quarantined meanwhile
    raises its ValidationFailed, not retryable: a retry would find it missing again."""
    try:
        yield
    except PartitionMissing as missing:
        record = quarantine_record(lake, dataset, day)
        if record is None:
            raise
        failed = "; ".join(record.get("failed", [])) or "see reason.json"
        raise ValidationFailed(
            f"{dataset} partition dt={record['dt']} was quarantined by {record.get('pipeline', 'another task')}"
            f" ({record.get('airflow_run_id', 'unknown run')}): {failed}; the rows are in"
            f" {lake.store.url(record['folder'])}/",
            report_url=record.get("validation_report"),
            quarantined_to=record["folder"],
        ) from missing
