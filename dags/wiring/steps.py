"""One line per task: turn a domain step (a plain function of the ml_platform package) into an Airflow task.

Every step has the signature `step(config, settings, run_context, *upstream_records) -> record`. The task
made here imports the step lazily (DAG files stay cheap to parse), builds the run's config from the manual
run's form values, the settings from the environment and the RunContext from Airflow's context, passes the
upstream tasks' records, announces asset events, and hands only the named fields of the record to XCom.
Typed failures pass through unchanged: the task policy's retry policy and the alert read their fields.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from airflow.sdk import Asset, Metadata, task

from wiring.connections import apply_connections
from wiring.context import run_context

# What a decision step hands downstream and shows as the task's return value; the full record is stored.
DECISION_FIELDS = ("verdict", "reasons", "champion_before", "champion_after")
# The one-slot pool of every task that moves registry aliases (decisions, rollbacks): they never interleave.
ALIAS_MOVES = "registry_aliases"

Configure = Callable[[Mapping[str, Any]], Any]
Announce = Callable[[dict[str, Any]], Iterable[tuple[Asset, dict[str, Any]]]]


def step(
    target: str,
    configure: Configure | None = None,
    *,
    task_id: str | None = None,
    keep: tuple[str, ...] | None = None,
    announce: Announce | None = None,
    **task_kwargs: Any,
):
    """A task running `target` ("module.function" in ml_platform).

    configure: the run's params -> the step's config (a config's `for_run`); None passes None.
    keep: the record's fields that go to XCom (all when None; a field the record lacks goes as None).
    announce: the record -> (asset, extra) pairs attached to this task's asset events (its outlets).
    """
    module_name, function_name = target.rsplit(".", 1)

    @task(task_id=task_id or function_name.removesuffix("_step"), **task_kwargs)
    def run(*upstream: dict[str, Any], **context: Any):
        from ml_platform.settings import Settings

        apply_connections()
        function = getattr(importlib.import_module(module_name), function_name)
        ctx = run_context(context)
        config = configure(ctx.params) if configure else None
        record = function(config, Settings.from_env(), ctx, *upstream)
        for asset, extra in announce(record) if announce else ():
            yield Metadata(asset, extra)
        return {k: record.get(k) for k in keep} if keep else record

    return run


def announce_when(flag: str, asset: Asset, extra: Callable[[dict[str, Any]], dict[str, Any]], *, task_id: str):
    """A task that updates `asset` with `extra(record)` when the upstream record's `flag` is true, and is
    skipped otherwise (a skipped task emits no asset event, so nothing downstream is triggered)."""

    @task(task_id=task_id, outlets=[asset])
    def announce(record: dict[str, Any]):
        from airflow.sdk.exceptions import AirflowSkipException

        if not record.get(flag):
            raise AirflowSkipException(f"{flag} is false for {record.get('day')}: {asset.uri} not updated")
        print(f"{asset.uri} updated for {record.get('day')}: {extra(record)}")
        yield Metadata(asset, extra(record))

    return announce
