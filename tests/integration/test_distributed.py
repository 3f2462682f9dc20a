"""`make distributed`'s harness in CI: CeleryExecutor with two workers on PostgreSQL and Redis, an MLflow server
on PostgreSQL, S3 through moto; the nightly chain, the drift-triggered retraining, two fine-tunings active at
once and held apart by their pool, and a backfill, with one worker SIGKILLed in the middle of a training task."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from contextlib import closing
from pathlib import Path

import psutil
import pytest

from tests.integration.conftest import PG, REPO

pytestmark = pytest.mark.slow


def test_the_chain_and_a_backfill_run_on_two_celery_workers_and_survive_a_killed_worker(tmp_path: Path) -> None:
    workdir, name = tmp_path / "distributed", f"dist_test_{uuid.uuid4().hex[:8]}"
    try:
        done = _run_harness(workdir, name)
    finally:
        _drop_databases(name)
    result = json.loads((workdir / "result.json").read_text())
    print(done.stdout[-6000:])
    assert done.returncode == 0 and result["ok"], done.stdout[-6000:] + done.stderr[-3000:]
    # Tasks ran on both workers, and the worker killed mid-training left one version, retried on the other.
    assert {"worker-1", "worker-2"} <= set(result["tasks_per_worker"])
    killed = result["killed"]
    assert killed["versions_of_the_run"] == 1
    [*_, (last_try, last_host, last_state)] = killed["tries"]
    assert last_state == "success" and last_host != killed["worker"] and last_try > killed["try"]
    assert result["finetune_runs_overlapped"] and result["llm_training_overlaps"] == []
    assert result["half_written_objects"] == []
    assert result["backfill_verdicts"] == ["recorded_only"]
    # Everything the harness started has stopped.
    assert not [p for p in psutil.process_iter() if _harness_of(p) == str(workdir.resolve())]


def _run_harness(workdir: Path, name: str) -> subprocess.CompletedProcess:
    arguments = {
        "--date": "2026-09-10",
        "--backfill-days": "1",
        "--workdir": str(workdir),
        "--name": name,
        "--redis-db": "11",
        "--timeout": "600",
    }
    command = [sys.executable, "scripts/distributed.py", *(x for kv in arguments.items() for x in kv)]
    return subprocess.run(
        [*command, "--kill-worker-in-training"], cwd=REPO, capture_output=True, text=True, timeout=1800
    )


def _drop_databases(name: str) -> None:
    import psycopg2

    admin = psycopg2.connect(dbname="postgres", **PG)
    admin.autocommit = True
    with closing(admin), admin.cursor() as cursor:
        for suffix in ("airflow", "mlflow"):
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}_{suffix}" WITH (FORCE)')


def _harness_of(process: psutil.Process) -> str | None:
    try:
        return process.environ().get("PLATFORM_HARNESS")
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return None
