"""Typed failures of the platform, raised where the check happens.

Each failure carries what the failure path needs as fields, so nothing downstream reads a message's text:
`gate` names the check that stopped the run (it is what an alert reports), `retryable` says whether running
the same task again could help (the orchestrator skips pointless retries), and `report_url` points at the
report that explains the failure, when one was written.
"""

from __future__ import annotations

from typing import ClassVar


class PlatformError(Exception):
    """Base of every failure the platform raises on purpose."""

    gate: ClassVar[str] = "task_error"
    retryable_by_default: ClassVar[bool] = True

    def __init__(self, message: str, *, report_url: str | None = None, retryable: bool | None = None) -> None:
        super().__init__(message)
        self.report_url = report_url
        self.retryable = self.retryable_by_default if retryable is None else retryable


class BadInput(PlatformError, ValueError):
    """A request the platform refuses: a manual run's form values, a file to import, a rollback reason."""

    gate = "bad_input"
    retryable_by_default = False


class ConfigError(BadInput):
    """A config file that does not match its typed model; the message names the file and the key."""

    gate = "config"


class PartitionMissing(PlatformError, LookupError):
    """A partition a step needs has not landed (or was quarantined). It may still land: retrying can help."""

    gate = "partition_missing"


class ValidationFailed(PlatformError):
    """A partition failed its expectations and was quarantined; the same data fails again on retry."""

    gate = "validation"
    retryable_by_default = False

    def __init__(self, message: str, *, report_url: str | None = None, quarantined_to: str | None = None) -> None:
        super().__init__(message, report_url=report_url)
        self.quarantined_to = quarantined_to


class NotEnoughHistory(PlatformError):
    """The training window holds fewer landed days than the config's minimum: backfill ingestion first."""

    gate = "training_history"
    retryable_by_default = False


class IndexCheckFailed(PlatformError):
    """A refreshed vector index missed its retrieval floor; the live index was left in place."""

    gate = "index_check"
    retryable_by_default = False


class IndexMissing(PlatformError, LookupError):
    """The vector store has no live index yet: kb_embedding_refresh has not made one live."""

    gate = "index_missing"
    retryable_by_default = False


class NoTrainingData(PlatformError):
    """Nothing left to train on after screening (an empty or entirely blocked day of Q&A pairs)."""

    gate = "training_data"
    retryable_by_default = False


class BaseModelMissing(PlatformError):
    """No base LLM on this machine; the message says how to get one."""

    gate = "base_model"
    retryable_by_default = False


class BaseModelMismatch(PlatformError):
    """The base LLM on this machine is not the one an adapter was trained on (its hash differs)."""

    gate = "base_model"
    retryable_by_default = False


class PromptMismatch(PlatformError):
    """The registered prompt a served model names is not the template it was evaluated with."""

    gate = "prompt"
    retryable_by_default = False


class LLMBudgetExceeded(PlatformError):
    """The assistant in production broke a budget (hallucination rate, latency): alerted, not raised."""

    gate = "llm_budget"
    retryable_by_default = False


class QuestionDrift(PlatformError):
    """The day's customer questions drifted from what the assistant was evaluated on: alerted, not raised."""

    gate = "drift"
    retryable_by_default = False


class ChampionMoved(PlatformError):
    """The champion changed between judging the gates and moving the aliases (a rollback or another decision
    ran meanwhile): nothing was moved, and a retry judges again against the new champion."""

    gate = "champion_moved"


class NothingToRollBack(BadInput):
    """A rollback was asked for a model without both a champion and a previous version."""

    gate = "rollback"
