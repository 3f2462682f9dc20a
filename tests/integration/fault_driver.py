"""Run one pipeline step as an Airflow task process would, optionally dying or stalling at a chosen point.

Usage: python fault_driver.py STEP DAY [FAULT]. STEP is `train` (churn's train then decide), `refresh` (the
help-centre index) or `ingest` (churn's demo partition). FAULT, when given, is where this process kills
itself with SIGKILL (a lost worker: no exception handler, no cleanup runs) or what it stalls on:

- fit: the model is fitted, nothing is logged yet
- register: the version is registered in MLflow, not yet tagged, no decision made
- switch: the new index is built and checked, the live pointer not yet switched
- lake_rename: the new partition's bytes are on disk, not yet renamed into place
- lock_registry: another connection holds the MLflow database's write lock while the model is registered

Retryable failures are retried in-process twice, as the platform's retry policy has Airflow do. Prints
`RESULT {json}` with the step's record, or `FAILED {json}` with what the user would read in the task log.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import sys
from datetime import date
from typing import Any


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def inject(fault: str | None) -> None:
    if fault == "fit":
        from ml_platform.tabular import training

        fitted = training.train_and_evaluate
        training.train_and_evaluate = lambda *a, **k: (fitted(*a, **k), die())[0]
    elif fault == "register":
        from ml_platform.registry import ModelRegistry

        ModelRegistry.tag_version = lambda *a, **k: die()
    elif fault == "switch":
        from ml_platform.retrieval.stores import LanceDBStore

        LanceDBStore.set_live = lambda *a, **k: die()
    elif fault == "lake_rename":
        from ml_platform import storage

        replace = storage.os.replace

        def rename(src: str, dst: str) -> None:
            if str(dst).endswith("part-00000.parquet") and "_versions" not in str(dst):
                die()
            replace(src, dst)

        storage.os.replace = rename
    elif fault == "lock_registry":
        import mlflow.xgboost

        log_model = mlflow.xgboost.log_model

        def locked(*args: Any, **kwargs: Any):
            holder = sqlite3.connect(os.environ["MLFLOW_TRACKING_URI"].removeprefix("sqlite:///"), timeout=30)
            holder.execute("BEGIN EXCLUSIVE")  # another writer holds the database for longer than MLflow waits
            try:
                return log_model(*args, **kwargs)
            finally:
                holder.rollback()
                holder.close()

        mlflow.xgboost.log_model = locked
    elif fault is not None:
        raise SystemExit(f"unknown fault {fault!r}")


def step(name: str, day: date) -> dict[str, Any]:
    from ml_platform.config.assistant import load_assistant_config
    from ml_platform.config.pipelines import load_ingest_config
    from ml_platform.config.tabular import load_model_config
    from ml_platform.pipelines import ingest, retrieval, tabular
    from ml_platform.run_context import RunContext
    from ml_platform.settings import Settings

    settings = Settings.from_env()
    run_id = os.environ.get("RUN_ID", f"scheduled__{day}")
    ctx = RunContext(day, "scheduled", run_id, name, try_number=int(os.environ.get("TRY_NUMBER", "1")))
    if name == "train":
        config = load_model_config("churn")
        trained = tabular.train_step(config, settings, ctx)
        return tabular.decide_step(config, settings, ctx, trained, {"success": True})
    if name == "refresh":
        return retrieval.refresh_step(load_assistant_config(), settings, ctx)
    if name == "ingest":
        return ingest.ingest_step(load_ingest_config().groups["churn"], settings, ctx)
    raise SystemExit(f"unknown step {name!r}")


def main(name: str, day: str, fault: str | None) -> int:
    from ml_platform.errors import PlatformError

    inject(fault)
    for attempt in range(1, 4):
        os.environ["TRY_NUMBER"] = str(attempt)
        try:
            record = step(name, date.fromisoformat(day))
        except Exception as error:  # what Airflow's task runner would log, and whether it would retry
            retryable = error.retryable if isinstance(error, PlatformError) else True
            print("FAILED " + json.dumps({"error": f"{type(error).__name__}: {error}", "try": attempt}), flush=True)
            if retryable and attempt < 3 and fault != "lock_registry":
                continue
            return 1
        print("RESULT " + json.dumps(record | {"try": attempt}, default=str), flush=True)
        return 0
    return 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None))
