"""The task policy every DAG shares: owner, retries with backoff, timeouts, a retry policy that skips pointless
retries, and the failure alert."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import RetryDecision, RetryPolicy

from wiring.alerts import alert_on_failure

OWNER = "ml-platform"


class PlatformRetryPolicy(RetryPolicy):
    """Retry only what a retry can fix: a typed failure that says `retryable = False` (bad data, missing
    history, a failed index check, bad input) fails at once; anything else keeps the task's retries."""

    def evaluate(self, exception: BaseException, try_number: int, max_tries: int, context=None) -> RetryDecision:
        if getattr(exception, "retryable", True) is False:
            gate = getattr(exception, "gate", type(exception).__name__)
            return RetryDecision.fail(f"{gate}: the same inputs fail the same way, so no retry")
        return RetryDecision.default()

    def serialize(self) -> dict[str, Any]:
        return {"__type": type(self).__name__}


def task_defaults(model: str | None = None) -> dict[str, Any]:
    """default_args of a DAG; `model` is the model it serves, named in its alerts."""
    return {
        "owner": OWNER,
        # A single flaky read must not cost a night: retries with exponential backoff.
        "retries": 2,
        "retry_delay": timedelta(seconds=30),
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": timedelta(minutes=10),
        "execution_timeout": timedelta(minutes=30),
        "retry_policy": PlatformRetryPolicy(),
        "on_failure_callback": alert_on_failure(model),
    }
