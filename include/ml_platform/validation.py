"""Great Expectations validation of one daily partition, with a suite generated entirely from the dataset schema.

The same YAML schema that drives the generators and the importer drives the gate here, so a vocabulary or a
range is never written twice. Great Expectations is imported lazily: it takes seconds to import and floods
the log at INFO, and most callers of this package never validate anything.
"""

from __future__ import annotations

import copy
import html
import logging
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ml_platform.config.datasets import DatasetSchema
from ml_platform.errors import ValidationFailed
from ml_platform.lake import Lake, PartitionInfo

if TYPE_CHECKING:
    import great_expectations as gx
    from great_expectations.core.expectation_validation_result import (
        ExpectationSuiteValidationResult,
        ExpectationValidationResult,
    )
    from great_expectations.expectations import Expectation
    from great_expectations.render import RenderedTableContent

SAMPLE_SIZE = 5
# Keyword arguments in an expectation's config that say nothing about what was expected.
_BOOKKEEPING_KWARGS = frozenset({"batch_id", "column", "result_format", "catch_exceptions", "include_config"})


@dataclass(frozen=True)
class FailedExpectation:
    expectation: str
    column: str | None
    kwargs: dict[str, Any]
    observed: Any
    unexpected_count: int | None
    sample_values: list[Any]

    def _expected_text(self) -> str:
        shown = {k: v for k, v in self.kwargs.items() if k not in _BOOKKEEPING_KWARGS and v is not None}
        return ", ".join(f"{k}={_short(v)}" for k, v in shown.items())

    def _found_text(self) -> str:
        if isinstance(self.observed, dict) and "error" in self.observed:
            return f"could not be evaluated: {self.observed['error']}"
        if isinstance(self.observed, dict) and "missing" in self.observed:
            return f"missing columns {self.observed['missing']}, unexpected columns {self.observed['unexpected']}"
        parts = []
        if self.observed is not None:
            parts.append(f"observed {_short(self.observed)}")
        if self.unexpected_count is not None:
            parts.append(f"{self.unexpected_count} unexpected value(s)")
        if self.sample_values:
            parts.append(f"e.g. {self.sample_values!r}")
        return ", ".join(parts) or "failed without an observed value"

    def describe(self) -> str:
        target = f" on {self.column}" if self.column else ""
        expected = self._expected_text()
        return f"{self.expectation}{target}{f' ({expected})' if expected else ''}: {self._found_text()}"


@dataclass
class ValidationOutcome:
    dataset: str
    dt: date
    success: bool
    evaluated: int
    failed: list[FailedExpectation]
    result_json: dict[str, Any]
    html: str

    def error_message(self) -> str:
        head = (
            f"{self.dataset} partition dt={self.dt.isoformat()} failed "
            f"{len(self.failed)} of {self.evaluated} expectations:"
        )
        return "\n".join([head, *(f"  - {f.describe()}" for f in self.failed)])

    def failure(self, report_url: str | None = None, quarantined_to: str | None = None) -> ValidationFailed:
        """The typed failure a failed partition raises: not retryable, pointing at its report."""
        return ValidationFailed(self.error_message(), report_url=report_url, quarantined_to=quarantined_to)

    def as_record(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "dt": self.dt.isoformat(),
            "success": self.success,
            "evaluated": self.evaluated,
            "failed": [asdict(f) for f in self.failed],
        }


def label_share_column(schema: DatasetSchema) -> str:
    """Derived 0/1 column added to the validated copy; named after the label so failures read on their own."""
    return f"_{schema.label_column}_is_{schema.positive_label}"


def build_suite(schema: DatasetSchema, day: date) -> gx.ExpectationSuite:
    # Passed to the constructor: `suite.add_expectation` demands an active data context, this does not.
    return _gx().ExpectationSuite(name=f"{schema.name}_partition", expectations=_expectations(schema, day))


def validate_partition(df: pd.DataFrame, schema: DatasetSchema, day: date) -> ValidationOutcome:
    result = _run(_with_label_share(df, schema), schema, day)
    failed = sorted((_failure(r) for r in result.results if not r.success), key=lambda f: f.column is not None)
    return ValidationOutcome(
        dataset=schema.name,
        dt=day,
        success=bool(result.success),
        evaluated=len(result.results),
        failed=failed,
        result_json=result.to_json_dict(),
        html=_render_html(result, failed),
    )


def _run(df: pd.DataFrame, schema: DatasetSchema, day: date) -> ExpectationSuiteValidationResult:
    gx = _gx()
    from great_expectations.core.run_identifier import RunIdentifier

    # A fresh in-memory context per call: nothing is shared between tasks and nothing touches disk.
    context = gx.get_context(mode="ephemeral")
    # GX draws a tqdm bar per validation on stderr; in task logs that is pure noise.
    context.variables.progress_bars = {"globally": False, "metric_calculations": False}
    batch = (
        context.data_sources.add_pandas(schema.name)
        .add_dataframe_asset(schema.name)
        .add_batch_definition_whole_dataframe("partition")
    )
    suite = context.suites.add(build_suite(schema, day))
    name = f"{schema.name}_{day.isoformat()}"
    result = gx.ValidationDefinition(name=name, data=batch, suite=suite).run(
        batch_parameters={"dataframe": df}, result_format="SUMMARY", run_id=RunIdentifier(run_name=name)
    )
    for item in result.results:
        # GX's renderer chokes on numpy 2's repr of its own metrics (`np.float64(1.0)`): store Python scalars.
        item.result = _map_leaves(item.result, lambda v: v.item() if isinstance(v, np.generic) else v)
    return result


# -- verdicts kept by content hash -----------------------------------------------------------------------------
# Bump when `_expectations` changes what it checks: verdicts kept under an older suite are then not trusted.
SUITE_REVISION = 1


def suite_version(schema: DatasetSchema) -> str:
    """The suite is generated from the schema alone (the day is part of the verdict's key); its prose does not
    change what is checked, so an edited description does not validate the history again."""
    return f"r{SUITE_REVISION}-{schema.fingerprint(exclude={'description', 'free_text'})}"


def validate_and_remember(
    lake: Lake, schema: DatasetSchema, frame: pd.DataFrame, info: PartitionInfo
) -> ValidationOutcome:
    """Validate rows read from the lake and keep the verdict beside them, so no reader validates them twice."""
    outcome = validate_partition(frame, schema, info.dt)
    verdict = {
        "success": outcome.success,
        "evaluated": outcome.evaluated,
        "failed": [f.describe() for f in outcome.failed],
        "validated_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    lake.remember_verdict(info, suite_version(schema), verdict)
    return outcome


def passed_an_earlier_suite(lake: Lake, schema: DatasetSchema, info: PartitionInfo) -> str | None:
    """The version of an earlier suite these exact rows passed, or None: rows that were good under the suite
    of their day and fail a changed one are not bad data."""
    current = suite_version(schema)
    passed = [suite for suite, v in lake.verdicts(info).items() if suite != current and v.get("success")]
    return sorted(passed)[-1] if passed else None


def passed_before(lake: Lake, schema: DatasetSchema, info: PartitionInfo) -> bool:
    """Whether exactly these rows passed this suite already (a failure is always validated again, for its report)."""
    verdict = lake.verdict(info, suite_version(schema))
    return bool(verdict and verdict["success"])


# -- suite ------------------------------------------------------------------------------------------------
def _expectations(schema: DatasetSchema, day: date) -> list[Expectation]:
    gxe = _gx().expectations
    low, high = schema.row_count
    share_low, share_high = schema.label_rate
    out: list[Expectation] = [
        gxe.ExpectTableColumnsToMatchSet(
            column_set=[*schema.column_names, label_share_column(schema)], exact_match=True
        ),
        gxe.ExpectTableRowCountToBeBetween(min_value=low, max_value=high),
    ]
    for spec in schema.columns:
        out.extend(_column_expectations(schema, spec.name, day))
    out.append(
        gxe.ExpectColumnMeanToBeBetween(
            column=label_share_column(schema),
            min_value=share_low,
            max_value=share_high,
            notes=f"Label rate: share of rows with {schema.label_column} == {schema.positive_label!r}.",
        )
    )
    return out


def _column_expectations(schema: DatasetSchema, name: str, day: date) -> list[Expectation]:
    gxe = _gx().expectations
    spec = schema.column(name)
    # mostly=1.0 is GX's strict default, so a zero null budget needs no special case.
    out: list[Expectation] = [gxe.ExpectColumnValuesToNotBeNull(column=name, mostly=1.0 - spec.max_null_fraction)]
    if spec.values is not None:
        out.append(gxe.ExpectColumnValuesToBeInSet(column=name, value_set=list(spec.values)))
    if spec.numeric and (spec.min is not None or spec.max is not None):
        out.append(gxe.ExpectColumnValuesToBeBetween(column=name, min_value=spec.min, max_value=spec.max))
    if spec.unique:
        out.append(gxe.ExpectColumnValuesToBeUnique(column=name))
    if spec.pattern is not None:
        out.append(gxe.ExpectColumnValuesToMatchRegex(column=name, regex=spec.pattern))
    if name == schema.time_column:
        midnight = datetime.combine(day, time.min)
        out.append(
            gxe.ExpectColumnValuesToBeBetween(
                column=name,
                min_value=midnight,
                max_value=midnight + timedelta(days=1),
                strict_max=True,
                notes=f"Freshness: every event of partition dt={day.isoformat()} falls on that day.",
            )
        )
    return out


def _with_label_share(df: pd.DataFrame, schema: DatasetSchema) -> pd.DataFrame:
    """A copy with the 0/1 label column GX needs to check the label rate as a column mean."""
    if schema.label_column not in df.columns:
        # Left out so the column-set check names both the label and its share as missing.
        return df
    return df.assign(**{label_share_column(schema): schema.label_binary(df).astype("float64")})


# -- results ----------------------------------------------------------------------------------------------
def _failure(result: ExpectationValidationResult) -> FailedExpectation:
    as_json = result.to_json_dict()
    config = as_json["expectation_config"]
    details = as_json.get("result") or {}
    error = _exception_message(result)
    return FailedExpectation(
        expectation=config["type"],
        column=config["kwargs"].get("column"),
        kwargs={k: v for k, v in config["kwargs"].items() if k != "batch_id"},
        observed={"error": error} if error else _observed(details),
        unexpected_count=details.get("unexpected_count"),
        sample_values=_samples(details.get("partial_unexpected_list") or []),
    )


def _observed(details: dict[str, Any]) -> Any:
    mismatched = (details.get("details") or {}).get("mismatched")
    if mismatched is not None:
        return {"missing": mismatched.get("missing", []), "unexpected": mismatched.get("unexpected", [])}
    return details.get("observed_value")


def _exception_message(result: ExpectationValidationResult) -> str | None:
    """GX reports an expectation that could not run (e.g. on a missing column) in one of two shapes."""
    info = result.exception_info or {}
    if info.get("raised_exception"):
        return str(info.get("exception_message"))
    # Metric errors come keyed by metric id, one entry per failed metric.
    messages = {str(v["exception_message"]) for v in info.values() if isinstance(v, dict) and v.get("raised_exception")}
    return "; ".join(sorted(messages)) or None


def _map_leaves(value: Any, fn: Callable[[Any], Any]) -> Any:
    if isinstance(value, dict):
        return {k: _map_leaves(v, fn) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_map_leaves(v, fn) for v in value]
    return fn(value)


def _samples(values: list[Any]) -> list[Any]:
    """Distinct bad values; nulls are left out since the not-null check already counts them."""
    seen: list[Any] = []
    for value in values:
        missing = value is None or (isinstance(value, float) and math.isnan(value))
        if not missing and value not in seen:
            seen.append(value)
        if len(seen) == SAMPLE_SIZE:
            break
    return seen


def _short(value: Any, limit: int = 8) -> str:
    if isinstance(value, list) and len(value) > limit:
        return f"[{', '.join(map(repr, value[:limit]))}, ... ({len(value)} in all)]"
    return repr(value)


# -- HTML -------------------------------------------------------------------------------------------------
def _render_html(result: ExpectationSuiteValidationResult, failed: list[FailedExpectation]) -> str:
    """GX's Data Docs page of this result, with a table of the failures (by expectation type) in its overview."""
    from great_expectations.render.renderer import ValidationResultsPageRenderer
    from great_expectations.render.view import DefaultJinjaPageView

    document = ValidationResultsPageRenderer().render(_escaped_samples(result))
    if failed:
        # After the header and statistics blocks, so the reader sees what broke before the per-column detail.
        document.sections[0].content_blocks.insert(2, _failures_table(failed))
    return DefaultJinjaPageView().render(document)


def _escaped_samples(result: ExpectationSuiteValidationResult) -> ExpectationSuiteValidationResult:
    """A copy whose data values (samples, observed column names) are HTML-escaped: GX's page inserts them raw."""
    safe = copy.deepcopy(result)
    for item in safe.results:
        item.result = _map_leaves(item.result, lambda v: html.escape(v) if isinstance(v, str) else v)
    return safe


def _failures_table(failed: list[FailedExpectation]) -> RenderedTableContent:
    from great_expectations.render import RenderedStringTemplateContent, RenderedTableContent

    # GX's table template inserts cell strings as raw HTML, and sample values come from the data.
    rows = [
        [html.escape(str(cell)) for cell in (f.expectation, f.column or "(table)", f._expected_text(), f._found_text())]
        for f in failed
    ]
    return RenderedTableContent(
        content_block_type="table",
        header=RenderedStringTemplateContent(
            content_block_type="string_template",
            string_template={"template": "Failed expectations", "tag": "h6", "styling": {"classes": ["m-0"]}},
        ),
        header_row=["Expectation", "Column", "Expected", "Found"],
        table=rows,
        styling={"classes": ["col-12", "table-responsive", "mt-1", "p-1"], "body": {"classes": ["table", "table-sm"]}},
    )


# -- GX import --------------------------------------------------------------------------------------------
@cache
def _gx() -> Any:
    # Set before the import: GX logs hundreds of INFO lines while registering its public API.
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    import great_expectations as gx

    # Some GX modules pin their own logger to INFO at import time; bring those back down too.
    for name in list(logging.root.manager.loggerDict):
        if name.startswith("great_expectations."):
            logging.getLogger(name).setLevel(logging.WARNING)
    return gx
