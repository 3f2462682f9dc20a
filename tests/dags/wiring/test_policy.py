"""The shared task policy: retries only where a retry can help, and an alert on every failure."""

from __future__ import annotations

import pytest
from airflow.sdk import RetryAction
from wiring.policy import PlatformRetryPolicy, task_defaults

from ml_platform.errors import (
    BadInput,
    IndexCheckFailed,
    NotEnoughHistory,
    PartitionMissing,
    ValidationFailed,
)


@pytest.mark.parametrize(
    ("error", "action"),
    [
        (ValidationFailed("bad partition"), RetryAction.FAIL),
        (NotEnoughHistory("2 days"), RetryAction.FAIL),
        (IndexCheckFailed("below floor"), RetryAction.FAIL),
        (BadInput("no reason given"), RetryAction.FAIL),
        (PartitionMissing("not landed yet"), RetryAction.DEFAULT),
        (PartitionMissing("not landed after 6 hours", retryable=False), RetryAction.FAIL),
        (ConnectionError("S3 unreachable"), RetryAction.DEFAULT),
    ],
)
def test_retry_policy_follows_the_failures_own_retryable_field(error: BaseException, action: RetryAction) -> None:
    decision = PlatformRetryPolicy().evaluate(error, try_number=1, max_tries=3)
    assert decision.action == action
    if action == RetryAction.FAIL:
        assert error.gate in decision.reason


def test_task_defaults_retry_with_backoff_apply_the_policy_and_alert() -> None:
    defaults = task_defaults("churn")
    assert defaults["retries"] >= 2 and defaults["retry_exponential_backoff"] > 1
    assert isinstance(defaults["retry_policy"], PlatformRetryPolicy)
    assert callable(defaults["on_failure_callback"])
