"""A throwaway Airflow (LocalExecutor) running this repo's real DAGs on a real PostgreSQL metadata DB.

PostgreSQL (the production metadata DB of docker-compose) runs on these machines; each test session gets a
fresh database and drops it afterwards. SQLite, the `make run` default, locks under a busy scheduler.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from scripts.distributed import Airflow
from tests.helpers import free_port

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


@dataclass
class EmbeddedAirflow:
    home: Path
    env: dict[str, str]

    def cli(self, *args: str, timeout: int = 600, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [str(BIN / "airflow"), *args], env=self.env, capture_output=True, text=True, timeout=timeout, cwd=REPO
        )
        if check and done.returncode != 0:
            raise AssertionError(
                f"airflow {' '.join(args)} failed ({done.returncode}):\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
            )
        return done

    def dag_tests(self, plan: list[dict], env: dict[str, str] | None = None, timeout: int = 900) -> list[dict]:
        """`dag.test()` of each {"dag_id", "date", "conf"} in order, in one process; each run's state and its
        tasks' states."""
        done = subprocess.run(
            [sys.executable, str(REPO / "tests/integration/dag_runner.py"), str(REPO / "dags"), json.dumps(plan)],
            env=self.env | (env or {}),
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=REPO,
        )
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        return [json.loads(line[4:]) for line in done.stdout.splitlines() if line.startswith("RUN ")]

    def query(self, sql: str, *args: object) -> list[tuple]:
        """Read the metadata DB directly: polling through the CLI would start a Python with Airflow every few
        seconds, which on 2 cores slows the very scheduler being waited for."""
        import psycopg2

        dsn = self.env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].replace("+psycopg2", "")
        with closing(psycopg2.connect(dsn)) as conn, conn.cursor() as cursor:
            cursor.execute(sql, args)
            return cursor.fetchall()

    def runs(self, dag_id: str) -> list[dict]:
        """The DAG's runs, newest first."""
        rows = self.query(
            "SELECT run_id, state FROM dag_run WHERE dag_id = %s ORDER BY run_after DESC, id DESC", dag_id
        )
        return [{"run_id": run_id, "state": state} for run_id, state in rows]

    def wait_for_runs(
        self, dag_id: str, prefix: str, count: int, timeout: float = 600, *, fail_nightly: bool = False
    ) -> list[dict]:
        """Poll until `count` runs whose id starts with `prefix` have finished; returns them. `fail_nightly`:
        mark this DAG's nightly runs failed meanwhile (see the harness's `Airflow.fail_nightly_runs`)."""
        deadline = time.monotonic() + timeout
        while True:
            if fail_nightly:
                Airflow(self.env, ADMIN_PASSWORD).fail_nightly_runs(dag_id)
            runs = [r for r in self.runs(dag_id) if r["run_id"].startswith(prefix)]
            if len(runs) >= count and all(r["state"] in ("success", "failed") for r in runs[:count]):
                return runs
            assert time.monotonic() < deadline, (
                f"{dag_id}: {count} {prefix}* run(s) did not finish: {runs}; all runs: {self.runs(dag_id)[:5]}; "
                f"queued asset events: {self.query('SELECT * FROM asset_dag_run_queue')}"
            )
            time.sleep(3)


ADMIN, ADMIN_PASSWORD = "admin", "admin-test-password"
VIEWER, VIEWER_PASSWORD = "viewer", "viewer-test-password"  # may read every page, may trigger nothing

PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}


@contextmanager
def scratch_database() -> Iterator[str]:
    """A fresh PostgreSQL database for one session's metadata, dropped afterwards."""
    import psycopg2

    name = f"airflow_test_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(dbname="postgres", **PG)
    admin.autocommit = True
    admin.cursor().execute(f"CREATE DATABASE {name}")
    try:
        yield f"postgresql+psycopg2://{PG['user']}@{PG['host']}:{PG['port']}/{name}"
    finally:
        admin.cursor().execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()


def airflow_env(root: Path, port: int, metadata_db: str) -> dict[str, str]:
    home = root / "airflow"
    base = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW__")}
    return base | {
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "PLATFORM_ROOT": str(REPO),
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        # LocalExecutor starts one worker process per slot (32 by default): on 2 cores their start-up alone
        # costs tens of seconds of CPU each time the scheduler starts. Four slots are plenty for these tests.
        "AIRFLOW__CORE__PARALLELISM": "4",
        # Paused: a running scheduler would otherwise start today's run of every DAG (a full LoRA fine-tune
        # among them). Tests unpause exactly the DAGs they drive.
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_db,
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://localhost:{port}/execution/",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN}:admin,{VIEWER}:viewer",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
        "LAKE_URI": str(root / "lake"),
        "REPORTS_URI": str(root / "reports"),
        "LANDING_URI": str(root / "landing"),
        "RAW_URI": str(root / "raw"),
        "MLFLOW_TRACKING_URI": f"sqlite:///{root / 'mlflow.db'}",
        "MLFLOW_ARTIFACTS_URI": str(root / "mlflow-artifacts"),
        "VECTOR_STORE_URI": str(root / "vectors"),
        "DEMO_SCALE": "0.2",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
    }


@pytest.fixture(scope="session")
def embedded_airflow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedAirflow]:
    with scratch_database() as metadata_db:
        root = tmp_path_factory.mktemp("platform")
        yield _prepared(EmbeddedAirflow(root / "airflow", airflow_env(root, free_port(), metadata_db)))


def _prepared(airflow: EmbeddedAirflow) -> EmbeddedAirflow:
    airflow.home.mkdir(parents=True)
    # A known admin password (SimpleAuthManager reads it from this file) for tests that call the REST API.
    (airflow.home / "passwords.json").write_text(json.dumps({ADMIN: ADMIN_PASSWORD, VIEWER: VIEWER_PASSWORD}))
    airflow.cli("db", "migrate")
    # Pools (model_training, ...), connections and variables, exactly as `make airflow-init` loads them.
    subprocess.run(
        [sys.executable, "scripts/load_airflow_settings.py", "airflow_settings.yaml"],
        env=airflow.env,
        cwd=REPO,
        check=True,
        capture_output=True,
        timeout=300,
    )
    return airflow


@pytest.fixture(scope="module")
def running_airflow(embedded_airflow: EmbeddedAirflow) -> Iterator[EmbeddedAirflow]:
    """`airflow standalone` (scheduler, DAG processor, API server, triggerer) on a free loopback port."""
    log = (embedded_airflow.home / "standalone.log").open("w")
    process = subprocess.Popen(
        [str(BIN / "airflow"), "standalone"],
        env=embedded_airflow.env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=REPO,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 180
        while not embedded_airflow.query("SELECT 1 FROM dag WHERE dag_id = 'ingest_daily'"):
            if time.monotonic() > deadline or process.poll() is not None:
                raise AssertionError(
                    "Airflow did not come up:\n" + (embedded_airflow.home / "standalone.log").read_text()[-4000:]
                )
            time.sleep(3)
        yield embedded_airflow
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        _kill_strays(embedded_airflow.env["AIRFLOW_HOME"])
        log.close()


def _kill_strays(home: str) -> None:
    """Task workers can outlive the scheduler's process group; end every process of this Airflow home."""
    import psutil

    for proc in psutil.process_iter(["pid"]):
        try:
            if proc.pid != os.getpid() and proc.environ().get("AIRFLOW_HOME") == home:
                proc.kill()
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
