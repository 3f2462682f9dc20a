"""Airflow's own cost per task: one real stage (ingest_daily: each group lands a day of demo data) run by the
scheduler, by `airflow dags test`, by `airflow tasks test`, and as the same calls made directly.

    python benchmarks/airflow_cost.py [--timeout 600]     (prints one JSON line)

Order: `airflow standalone` (as `make airflow` starts it, on a scratch home and SQLite) runs the one scheduled
run that unpausing ingest_daily creates; its task instances give each task's duration and the scheduler's gaps.
The other ways then land the same date in fresh lakes, so every way does the same work. Each way's process is
timed from the outside (interpreter start included); the direct process also times its imports and its calls.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DAG = "ingest_daily"
BIN = Path(sys.executable).parent

DIRECT = """
import json, sys, time
started = time.perf_counter()
from ml_platform.config.pipelines import load_ingest_config
from ml_platform.pipelines.ingest import ingest_step
from ml_platform.run_context import RunContext
from ml_platform.settings import Settings
from datetime import date
imported = time.perf_counter()
calls = {}
for group in load_ingest_config().groups.values():
    tick = time.perf_counter()
    context = RunContext(day=date.fromisoformat(sys.argv[1]), run_type="manual", dag_id="ingest_daily",
                         task_id=f"ingest_{group.name}")
    ingest_step(group.for_run({}), Settings.from_env(), context)
    calls[f"ingest_{group.name}"] = time.perf_counter() - tick
print(json.dumps({"import_s": imported - started, "calls_s": calls}))
"""


def environment(home: Path, port: int) -> dict[str, str]:
    """Airflow as the Makefile configures it, with every platform location in `home`."""
    return os.environ | {
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "PLATFORM_ROOT": str(REPO),
        "AIRFLOW_HOME": str(home / "airflow"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow' / 'airflow.db'}",
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": str(os.cpu_count() or 2),
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
        "AIRFLOW__API__PORT": str(port),
        # In the scratch home: the Makefile's points into .local/airflow, which may not exist (standalone dies).
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "airflow" / "passwords.json"),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://localhost:{port}/execution/",  # tasks call home here
        "LAKE_URI": str(home / "lake"),
        "REPORTS_URI": str(home / "reports"),
        "LANDING_URI": str(home / "landing"),
        "RAW_URI": str(home / "raw"),
        "MLFLOW_TRACKING_URI": f"sqlite:///{home / 'mlflow.db'}",
        "MLFLOW_ARTIFACTS_URI": str(home / "mlflow-artifacts"),
        "VECTOR_STORE_URI": str(home / "vectors"),
    }


def fresh_lake(env: dict[str, str], name: str) -> dict[str, str]:
    """The same Airflow home, another lake and reports folder: a way that lands the date anew."""
    home = Path(env["LAKE_URI"]).parent
    return env | {"LAKE_URI": str(home / f"lake-{name}"), "REPORTS_URI": str(home / f"reports-{name}")}


def timed(command: list[str], env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"{' '.join(command[:4])} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    return time.perf_counter() - started, done.stdout


def start_standalone(env: dict[str, str]) -> subprocess.Popen:
    """`airflow standalone` in its own process group (stop it with os.killpg), output discarded."""
    return subprocess.Popen(
        [str(BIN / "airflow"), "standalone"],
        env=env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def under_scheduler(env: dict[str, str], timeout: float) -> dict:
    """Unpause ingest_daily in a running standalone; the run that creates is measured from its rows."""
    database = Path(env["AIRFLOW_HOME"]) / "airflow.db"
    process = start_standalone(env)
    try:
        deadline = time.monotonic() + timeout
        while not _query(database, "select 1 from dag where dag_id = ?", DAG):
            _wait(deadline, "ingest_daily to be parsed", process)
        unpaused = time.perf_counter()
        subprocess.run([str(BIN / "airflow"), "dags", "unpause", DAG], env=env, capture_output=True, check=True)
        while not _query(database, "select 1 from dag_run where dag_id = ? and state in ('success', 'failed')", DAG):
            _wait(deadline, "the scheduled ingest_daily run", process)
        finished = time.perf_counter()
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, 15)
        process.wait(timeout=60)
    [(state, logical, queued, started, ended)] = _query(
        database, "select state, logical_date, queued_at, start_date, end_date from dag_run where dag_id = ?", DAG
    )
    if state != "success":
        raise RuntimeError(f"the scheduled {DAG} run ended {state}")
    tasks = {
        task: {"queued_to_start_s": _gap(q, s), "duration_s": duration, "start": s, "end": e}
        for task, q, s, e, duration in _query(
            database,
            "select task_id, queued_dttm, start_date, end_date, duration from task_instance where dag_id = ?",
            DAG,
        )
    }
    return {
        "day": logical[:10],
        "run_s": _gap(started, ended),
        "created_to_start_s": _gap(queued, started),
        "unpause_to_done_s": finished - unpaused,
        "tasks": tasks,
    }


def _query(database: Path, sql: str, *args) -> list[tuple]:
    if not database.exists():
        return []
    with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30)) as connection:
        try:
            return connection.execute(sql, args).fetchall()
        except sqlite3.OperationalError:  # tables not created yet, or locked by a writer
            return []


def _wait(deadline: float, what: str, standalone: subprocess.Popen) -> None:
    if standalone.poll() is not None:
        raise RuntimeError(f"airflow standalone exited ({standalone.returncode}) while waiting for {what}")
    if time.monotonic() > deadline:
        raise TimeoutError(f"gave up waiting for {what}")
    time.sleep(1)


def _gap(start: str | None, end: str | None) -> float | None:
    if not start or not end:
        return None
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        home = Path(scratch)
        env = environment(home, _free_port())
        subprocess.run([str(BIN / "airflow"), "db", "migrate"], env=env, capture_output=True, check=True)
        scheduled = under_scheduler(env, args.timeout)
        day = scheduled["day"]
        direct_s, out = timed([sys.executable, "-c", DIRECT, day], fresh_lake(env, "direct"))
        direct = json.loads(out.strip().splitlines()[-1]) | {"process_s": direct_s}
        dags_test_s, _ = timed([str(BIN / "airflow"), "dags", "test", DAG, day], fresh_lake(env, "dags-test"))
        tasks_test = {
            task: timed([str(BIN / "airflow"), "tasks", "test", DAG, task, day], fresh_lake(env, task))[0]
            for task in direct["calls_s"]
        }
        bare_python_s, _ = timed([sys.executable, "-c", "pass"], env)
        airflow_cli_s, _ = timed([str(BIN / "airflow"), "version"], env)
    result = {
        "day": day,
        "direct": direct,
        "dags_test_s": dags_test_s,
        "tasks_test_s": tasks_test,
        "scheduler": scheduled,
        "python_start_s": bare_python_s,
        "airflow_cli_start_s": airflow_cli_s,
    }
    json.dump(result, sys.stdout)
    print()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


if __name__ == "__main__":
    main()
