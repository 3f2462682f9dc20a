"""Every partition a step learns from or judges by has passed validation.

The nightly `validate` task checks the run's own day; training also reads a window of earlier days and
monitoring the champion's training days, which a backfill or a re-landed file may have left unchecked. Each
read is screened here: a verdict kept for the partition's content hash costs one footer read, anything else
is validated now. A failing history day is quarantined and left out (the step's record names it); a failing
day the step is about raises, after its quarantine.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date
from typing import Any

from ml_platform.config.datasets import load_schema
from ml_platform.lake import Lake, PartitionInfo
from ml_platform.reports import Reports
from ml_platform.run_context import RunContext
from ml_platform.settings import Settings
from ml_platform.validation import ValidationOutcome, passed_before, validate_and_remember

log = logging.getLogger(__name__)


def quarantine_failed(
    settings: Settings, outcome: ValidationOutcome, partition: PartitionInfo, pipeline: str, ctx: RunContext
) -> tuple[str, str]:
    """Store the failed partition's report under the run's records and move exactly those rows aside;
    returns (quarantine folder, report URL)."""
    reports = Reports.at(settings.reports_uri)
    report_name = (
        "validation.html" if partition.dt == ctx.day else f"validation-{partition.dataset}-{partition.dt}.html"
    )
    html_url = reports.write_bytes(pipeline, ctx.day, report_name, outcome.html.encode())
    folder = Lake.at(settings.lake_uri).quarantine(
        partition.dataset,
        partition.dt,
        {
            "reason": "validation failed",
            "pipeline": pipeline,
            "airflow_run_id": ctx.airflow_run_id,
            "failed": [f.expectation + (f" on {f.column}" if f.column else "") for f in outcome.failed],
            "validation_report": html_url,
        },
        expected_hash=partition.content_hash,
    )
    log.error("%s\nquarantined to %s", outcome.error_message(), folder)
    return folder, html_url


def screen_history(
    settings: Settings, dataset: str, days: Iterable[date | str], pipeline: str, ctx: RunContext
) -> list[dict[str, Any]]:
    """Validate the earlier days a step reads; failing ones are quarantined. Returns the days left out."""
    lake, schema = Lake.at(settings.lake_uri), load_schema(dataset)
    left_out = []
    for day in days:
        if not lake.exists(dataset, day):
            continue  # already quarantined, or never landed: readers list what is there
        if passed_before(lake, schema, lake.info(dataset, day)):
            continue
        frame, partition = lake.load(dataset, day)
        outcome = validate_and_remember(lake, schema, frame, partition)
        if outcome.success:
            log.info("%s/dt=%s: validated now (no verdict was kept for its rows)", dataset, partition.dt)
            continue
        folder, _ = quarantine_failed(settings, outcome, partition, pipeline, ctx)
        left_out.append(
            partition.as_dict() | {"failed": [f.describe() for f in outcome.failed], "quarantined_to": folder}
        )
        log.warning("%s/dt=%s failed validation and is left out of this run", dataset, partition.dt)
    return left_out


def require_valid(settings: Settings, dataset: str, day: date, pipeline: str, ctx: RunContext) -> None:
    """The day a step is about must pass: a failure is quarantined and raised (not retryable)."""
    lake, schema = Lake.at(settings.lake_uri), load_schema(dataset)
    if passed_before(lake, schema, lake.info(dataset, day)):
        return
    frame, partition = lake.load(dataset, day)
    outcome = validate_and_remember(lake, schema, frame, partition)
    if not outcome.success:
        folder, html_url = quarantine_failed(settings, outcome, partition, pipeline, ctx)
        raise outcome.failure(report_url=html_url, quarantined_to=folder)
