"""`make distributed`: the platform on Airflow's distributed executor, on this machine, without Docker.

Starts, each as its own process with its own log under WORKDIR/logs: a moto S3 server (the lake, the reports
and MLflow's artifacts), an MLflow tracking server on its own PostgreSQL database, and Airflow on another
PostgreSQL database with the CeleryExecutor (Redis broker on a dedicated DB number, PostgreSQL result backend):
scheduler, dag-processor, triggerer, api-server and two Celery workers. Then, through the real scheduler:

1. the nightly chain for DATE (triggered runs): ingest, churn/fraud training and the knowledge-base refresh,
   model_monitoring (DATE's demo data has drifted, so it triggers churn's retraining through its asset);
2. then at once: DATE's fine-tuning, a backfill of the fine-tuning for the day before (two runs active
   together, which only the one-slot `llm_training` pool keeps apart), and a backfill (`airflow backfill
   create`) of ingest and both trainings over the days before DATE;

waits for each with a timeout and a progress line, checks what must hold (tasks on both workers, the pool,
backfills moving no alias), prints the summary and the tasks per worker, writes WORKDIR/result.json, and stops
everything it started (by process group), also on Ctrl-C. `--kill-worker-in-training` SIGKILLs the worker
that runs a training task mid-way: the task must be retried on the other worker and succeed, with one
registry version and no half-written object.

Every run starts fresh: its two PostgreSQL databases (named after --name) are dropped and created, its Redis DB
is flushed, and moto keeps S3 in memory. Nothing else on the servers is touched. The Airflow components get
no S3 or MLflow settings in their environment: they resolve the `lake_s3` and `mlflow_default` connections
(given as AIRFLOW_CONN_* variables, as a secrets backend would), which is how docker-compose runs them too.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

# -- the topology: one source of truth, read by the docker-compose tests too -----------------------------
# Airflow component -> its `airflow` command (docker-compose runs the same commands, one service each).
AIRFLOW_COMPONENTS: dict[str, list[str]] = {
    "api-server": ["api-server"],
    "scheduler": ["scheduler"],
    "dag-processor": ["dag-processor"],
    "triggerer": ["triggerer"],
    "worker": ["celery", "worker"],
}
WORKERS = ("worker-1", "worker-2")
# Backing services: what runs them here, and what runs them in docker-compose.
BACKING_SERVICES = {
    "postgres": ("the machine's PostgreSQL (databases <name>_airflow, <name>_mlflow)", "postgres"),
    "redis": ("the machine's Redis (a dedicated DB number)", "redis"),
    "s3": ("moto server on 127.0.0.1", "minio"),
    "mlflow": ("mlflow server (PostgreSQL backend store, artifacts on S3)", "mlflow"),
    "vector-store": ("the embedded LanceDB folder", "weaviate"),
}
# What every Airflow component's environment sets (values differ between the harness and compose).
AIRFLOW_ENVIRONMENT = (
    "AIRFLOW__CORE__EXECUTOR",
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
    "AIRFLOW__CELERY__BROKER_URL",
    "AIRFLOW__CELERY__RESULT_BACKEND",
    "AIRFLOW__CORE__FERNET_KEY",
    "AIRFLOW__API_AUTH__JWT_SECRET",
    "AIRFLOW__CORE__EXECUTION_API_SERVER_URL",
    "AIRFLOW_CONN_LAKE_S3",
    "AIRFLOW_CONN_MLFLOW_DEFAULT",
    "LAKE_URI",
    "REPORTS_URI",
    "MLFLOW_ARTIFACTS_URI",
    "VECTOR_STORE_URI",
    "MODEL_CACHE_URI",
)
EXECUTOR = "CeleryExecutor"
BUCKETS = {
    "LAKE_URI": "s3://lake/lake",
    "REPORTS_URI": "s3://reports/reports",
    "MLFLOW_ARTIFACTS_URI": "s3://mlflow/artifacts",
}
PG = "postgres@127.0.0.1:5432"
TRAINING_DAGS = ("churn_training", "fraud_training")
# The assistant's fine-tune at the small size (seconds, not minutes), as the integration tests run it.
SMALL_FINETUNE = {"steps": 2, "train_pairs": 16, "eval_questions": 4}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def worker_hostname() -> str:
    """Airflow's `hostname_callable` for the harness: two workers on one host report their own names."""
    return os.environ.get("PLATFORM_WORKER_NAME") or socket.getfqdn()


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# -- processes ---------------------------------------------------------------------------------------------
@dataclass
class Processes:
    """Everything the harness starts, each in its own process group; `stop` ends them all."""

    logs: Path
    running: dict[str, subprocess.Popen] = field(default_factory=dict)

    def start(self, name: str, command: list[str], env: dict[str, str]) -> subprocess.Popen:
        log = (self.logs / f"{name}.log").open("ab")
        process = subprocess.Popen(
            command, env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.running[name] = process
        say(f"started {name} (pid {process.pid}, log {self.logs / f'{name}.log'})")
        return process

    def kill(self, name: str) -> None:
        """SIGKILL a component and everything it started (a worker and the tasks it runs). The task SDK puts
        each task process in a process group of its own, so the group alone would leave the task running."""
        import psutil

        process = self.running.pop(name)
        descendants = psutil.Process(process.pid).children(recursive=True)
        os.killpg(process.pid, signal.SIGKILL)
        for child in descendants:
            try:
                child.kill()
            except psutil.NoSuchProcess:
                continue
        process.wait()

    def stop(self) -> None:
        for process in reversed(list(self.running.values())):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        for name, process in reversed(list(self.running.items())):
            try:
                process.wait(timeout=max(1.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            say(f"stopped {name} (pid {process.pid})")
        self.running.clear()
        _kill_strays(self.logs.parent)

    def check_alive(self) -> None:
        dead = [name for name, p in self.running.items() if p.poll() is not None]
        if dead:
            raise RuntimeError(f"{', '.join(dead)} exited; see {self.logs}/<name>.log")


def _kill_strays(workdir: Path) -> None:
    """Task processes that left their group (none should) still carry the harness's marker variable."""
    import psutil

    for proc in psutil.process_iter(["pid"]):
        try:
            if proc.pid != os.getpid() and proc.environ().get("PLATFORM_HARNESS") == str(workdir):
                proc.kill()
                say(f"killed stray process {proc.pid}")
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue


def wait_until(what: str, ready: Callable[[], bool], timeout: float, processes: Processes) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        processes.check_alive()
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not ready after {timeout:.0f}s")
        time.sleep(1)


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status < 500
    except urllib.error.HTTPError as error:  # a 4xx still means the server is up
        return error.code < 500
    except OSError:
        return False


# -- backing services --------------------------------------------------------------------------------------
def fresh_database(name: str) -> str:
    import psycopg2

    admin = psycopg2.connect(dbname="postgres", host="127.0.0.1", port=5432, user="postgres")
    admin.autocommit = True
    with closing(admin), admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    return f"{PG}/{name}"


def flush_redis(db: int) -> None:
    import redis

    redis.Redis(host="127.0.0.1", port=6379, db=db).flushdb()


@dataclass
class Deployment:
    """The locations and secrets of one harness run."""

    workdir: Path
    name: str
    redis_db: int
    scale: str
    drift_onset: date
    s3_port: int = field(default_factory=free_port)
    mlflow_port: int = field(default_factory=free_port)
    api_port: int = field(default_factory=free_port)
    access_key: str = field(default_factory=lambda: secrets.token_hex(8))
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    admin_password: str = field(default_factory=lambda: secrets.token_urlsafe(12))

    @property
    def s3_url(self) -> str:
        return f"http://127.0.0.1:{self.s3_port}"

    @property
    def mlflow_url(self) -> str:
        return f"http://127.0.0.1:{self.mlflow_port}"

    def base_env(self) -> dict[str, str]:
        keep = ("AIRFLOW", "AWS_", "MLFLOW_", "LAKE_URI", "REPORTS_URI", "VECTOR_STORE_URI", "DEMO_")
        env = {k: v for k, v in os.environ.items() if not k.startswith(keep)}
        return env | {
            "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
            "PYTHONPATH": str(REPO),
            "PYTHONUNBUFFERED": "1",
            "PLATFORM_ROOT": str(REPO),
            "PLATFORM_HARNESS": str(self.workdir),
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "DEMO_SCALE": self.scale,
            "DEMO_DRIFT_ONSET": self.drift_onset.isoformat(),
            "VECTOR_STORE_URI": str(self.workdir / "vectors"),
            **BUCKETS,
        }

    def s3_client(self):
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.s3_url,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name="us-east-1",
        )

    def client_env(self) -> dict[str, str]:
        """For the harness's own CLI calls (demo data, summary): S3 and MLflow straight from variables."""
        return self.base_env() | {
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": self.s3_url,
            "MLFLOW_S3_ENDPOINT_URL": self.s3_url,
            "MLFLOW_TRACKING_URI": self.mlflow_url,
        }

    def airflow_env(self, airflow_db: str) -> dict[str, str]:
        from cryptography.fernet import Fernet

        home = self.workdir / "airflow"
        lake_s3 = {
            "conn_type": "aws",
            "login": self.access_key,
            "password": self.secret_key,
            "extra": {"endpoint_url": self.s3_url, "region_name": "us-east-1"},
        }
        mlflow = {"conn_type": "http", "host": "127.0.0.1", "port": self.mlflow_port, "schema": "http"}
        return self.base_env() | {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": EXECUTOR,
            "AIRFLOW__CORE__PARALLELISM": "8",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            "AIRFLOW__CORE__HOSTNAME_CALLABLE": "scripts.distributed.worker_hostname",
            "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"postgresql+psycopg2://{airflow_db}",
            "AIRFLOW__CELERY__BROKER_URL": f"redis://127.0.0.1:6379/{self.redis_db}",
            "AIRFLOW__CELERY__RESULT_BACKEND": f"db+postgresql+psycopg2://{airflow_db}",
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": "2",
            "AIRFLOW__API__PORT": str(self.api_port),
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(24),
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{self.api_port}/execution/",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
            # A killed worker's task is failed (and retried elsewhere) after this many seconds without a heartbeat.
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "15",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW_CONN_LAKE_S3": json.dumps(lake_s3),
            "AIRFLOW_CONN_MLFLOW_DEFAULT": json.dumps(mlflow),
        }


# -- Airflow through its REST API and metadata DB ------------------------------------------------------------
@dataclass
class Airflow:
    env: dict[str, str]
    password: str

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [str(BIN / "airflow"), *args], env=self.env, cwd=REPO, capture_output=True, text=True, timeout=600
        )
        if done.returncode:
            raise RuntimeError(f"airflow {' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        return done.stdout

    def api(self, method: str, path: str, body: dict | None = None) -> dict:
        import requests

        base = f"http://127.0.0.1:{self.env['AIRFLOW__API__PORT']}"
        login = {"username": "admin", "password": self.password}
        token = requests.post(f"{base}/auth/token", json=login, timeout=30).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        response = requests.request(method, base + path, json=body, headers=headers, timeout=60)
        if not response.ok:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:1000]}")
        return response.json()

    def query(self, sql: str, *args: object) -> list[tuple]:
        import psycopg2

        dsn = self.env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].replace("postgresql+psycopg2", "postgresql")
        with closing(psycopg2.connect(dsn)) as conn, conn.cursor() as cursor:
            cursor.execute(sql, args)
            return cursor.fetchall()

    def trigger(self, dag_id: str, day: date, conf: dict | None = None) -> str:
        body = {"logical_date": f"{day.isoformat()}T00:00:00Z", "conf": conf or {}}
        return self.api("POST", f"/api/v2/dags/{dag_id}/dagRuns", body)["dag_run_id"]

    def runs(self, where: str, *args: object) -> list[tuple[str, str, str]]:
        return self.query(f"SELECT dag_id, run_id, state FROM dag_run WHERE {where}", *args)

    def fail_nightly_runs(self, only: str | None = None) -> None:
        """The harness (and the tests) drive their dates themselves. A real cron tick during a run (02:00-02:45
        UTC), or unpausing a DAG, starts today's nightly runs, whose sensors wait hours for data nobody lands
        and, at max_active_runs=1, hold back the drift-triggered run: mark them failed, as an operator would."""
        where = "run_type = 'scheduled' AND state IN ('queued', 'running') AND (%s IS NULL OR dag_id = %s)"
        for dag_id, run_id, _ in self.runs(where, only, only):
            say(f"marking the nightly run {dag_id} {run_id} failed: its dates are driven here")
            self.api("PATCH", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}", {"state": "failed"})

    def wait(self, label: str, where: str, args: tuple, count: int, timeout: float, processes: Processes) -> None:
        """Wait until `count` runs matching `where` have finished, one progress line every 15 s."""
        deadline, last = time.monotonic() + timeout, 0.0
        while True:
            processes.check_alive()
            self.fail_nightly_runs()
            runs = self.runs(where, *args)
            done = [r for r in runs if r[2] in ("success", "failed")]
            if time.monotonic() - last > 15 or len(done) >= count:
                failed = sum(r[2] == "failed" for r in done)
                say(f"{label}: {len(done)}/{count} runs finished ({failed} failed); {self.tasks_now()}")
                last = time.monotonic()
            if len(done) >= count:
                if failed:
                    bad = [f"{d} {r}" for d, r, s in done if s == "failed"]
                    raise RuntimeError(f"{label}: failed runs: {bad}; task logs under {self.env['AIRFLOW_HOME']}/logs")
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"{label}: {len(done)}/{count} runs finished after {timeout:.0f}s: {runs}")
            time.sleep(3)

    def tasks_now(self) -> str:
        rows = self.query("SELECT hostname, task_id FROM task_instance WHERE state = 'running' ORDER BY hostname")
        return "running: " + (", ".join(f"{task_id}@{host}" for host, task_id in rows) or "none")


# -- the run ---------------------------------------------------------------------------------------------------
def start_services(deployment: Deployment, processes: Processes, demo_data: list[str]) -> tuple[Airflow, Callable]:
    """Every service; `demo_data` (ml-platform arguments) writes the history to S3 while the rest starts.
    Returns Airflow and a function that waits for the demo data."""
    processes.start(
        "s3", [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(deployment.s3_port)], os.environ.copy()
    )
    wait_until("moto S3", lambda: http_ok(deployment.s3_url), 60, processes)
    s3 = deployment.s3_client()
    for uri in BUCKETS.values():
        s3.create_bucket(Bucket=uri.removeprefix("s3://").split("/")[0])
    say(f"demo history on S3: ml-platform {' '.join(demo_data)}")
    log = (processes.logs / "demo-data.log").open("wb")
    demo = subprocess.Popen(
        [str(BIN / "ml-platform"), *demo_data], env=deployment.client_env(), cwd=REPO, stdout=log, stderr=log
    )

    def demo_written() -> None:
        if demo.wait(timeout=900):
            raise RuntimeError(f"demo data failed: see {processes.logs / 'demo-data.log'}")

    mlflow_db = fresh_database(f"{deployment.name}_mlflow")
    mlflow = [
        str(BIN / "mlflow"), "server",
        "--backend-store-uri", f"postgresql+psycopg2://{mlflow_db}",
        "--default-artifact-root", BUCKETS["MLFLOW_ARTIFACTS_URI"],
        "--host", "127.0.0.1", "--port", str(deployment.mlflow_port), "--workers", "1",
    ]  # fmt: skip
    processes.start("mlflow", mlflow, deployment.client_env())
    wait_until("MLflow server", lambda: http_ok(f"{deployment.mlflow_url}/health"), 180, processes)

    airflow_db = fresh_database(f"{deployment.name}_airflow")
    flush_redis(deployment.redis_db)
    env = deployment.airflow_env(airflow_db)
    home = Path(env["AIRFLOW_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    (home / "passwords.json").write_text(json.dumps({"admin": deployment.admin_password}))
    airflow = Airflow(env, deployment.admin_password)
    say("migrating the Airflow metadata DB (PostgreSQL)")
    airflow.cli("db", "migrate")
    subprocess.run([sys.executable, "scripts/load_airflow_settings.py"], env=env, cwd=REPO, check=True)
    for component, command in AIRFLOW_COMPONENTS.items():
        if component != "worker":
            processes.start(component, [str(BIN / "airflow"), *command], env)
    for worker in WORKERS:
        start_worker(worker, airflow, processes)
    wait_until("api-server", lambda: http_ok(f"http://127.0.0.1:{deployment.api_port}/api/v2/version"), 180, processes)
    return airflow, demo_written


def start_worker(worker: str, airflow: Airflow, processes: Processes) -> None:
    command = [str(BIN / "airflow"), *AIRFLOW_COMPONENTS["worker"], "--celery-hostname", f"{worker}@%h"]
    # Each worker serves its task logs on a port of its own (two workers share this host).
    env = airflow.env | {"PLATFORM_WORKER_NAME": worker, "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port())}
    processes.start(worker, command, env)


def ml_platform(deployment: Deployment, *args: str) -> str:
    done = subprocess.run(
        [str(BIN / "ml-platform"), *args], env=deployment.client_env(), cwd=REPO, capture_output=True, text=True
    )
    if done.returncode:
        raise RuntimeError(f"ml-platform {' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done.stdout


def platform_json(deployment: Deployment, code: str) -> object:
    """Run `code` (which prints one JSON value) in a Python with the harness's client environment."""
    done = subprocess.run(
        [sys.executable, "-c", code], env=deployment.client_env(), cwd=REPO, capture_output=True, text=True
    )
    if done.returncode:
        raise RuntimeError(f"{code!r} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def decision_verdicts(deployment: Deployment, pipelines: tuple[str, ...], days: list[date]) -> dict[str, str]:
    code = (
        "import json, os; from ml_platform.reports import Reports; r = Reports.at(os.environ['REPORTS_URI']); "
        f"print(json.dumps({{f'{{p}} {{d}}': r.read_json(p, d, 'decision')['verdict'] "
        f"for p in {list(pipelines)!r} for d in {[d.isoformat() for d in days]!r}}}))"
    )
    return platform_json(deployment, code)  # type: ignore[return-value]


def wait_for_dags(airflow: Airflow, dag_ids: list[str], processes: Processes) -> None:
    def parsed() -> bool:
        found = {row[0] for row in airflow.query("SELECT dag_id FROM dag WHERE NOT is_stale")}
        return set(dag_ids) <= found

    wait_until("DAG parsing", parsed, 300, processes)
    for dag_id in dag_ids:
        airflow.cli("dags", "unpause", dag_id)
    say(f"parsed and unpaused: {', '.join(dag_ids)}")


def kill_worker_during(airflow: Airflow, processes: Processes, task_id: str, timeout: float) -> dict:
    """SIGKILL the worker running `task_id` once it has run a few seconds; returns what was killed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = airflow.query(
            "SELECT dag_id, run_id, hostname, try_number FROM task_instance WHERE task_id = %s AND state = 'running' "
            "AND start_date < now() - interval '3 seconds'",
            task_id,
        )
        if rows:
            dag_id, run_id, worker, try_number = rows[0]
            processes.kill(worker)
            say(f"SIGKILLed {worker} (and its task processes) while it ran {dag_id}.{task_id} try {try_number}")
            return {"dag_id": dag_id, "run_id": run_id, "task_id": task_id, "worker": worker, "try": try_number}
        time.sleep(0.5)
    raise TimeoutError(f"no {task_id} task started running within {timeout:.0f}s")


def nightly_chain(airflow: Airflow, day: date, processes: Processes, kill: bool, timeout: float) -> dict:
    """The night of `day` through the scheduler, stage by stage, up to the drift-triggered retraining."""
    outcome: dict = {}
    airflow.trigger("ingest_daily", day)
    airflow.wait("ingest", "dag_id = 'ingest_daily' AND run_type = 'manual'", (), 1, timeout, processes)
    for dag_id in (*TRAINING_DAGS, "kb_embedding_refresh"):
        airflow.trigger(dag_id, day)
    if kill:
        outcome["killed"] = kill_worker_during(airflow, processes, "train", timeout)
    stage = "dag_id IN ('churn_training', 'fraud_training', 'kb_embedding_refresh') AND run_type = 'manual'"
    airflow.wait("training and index refresh", stage, (), 3, timeout, processes)
    if kill:
        start_worker(outcome["killed"]["worker"], airflow, processes)  # back to two workers for what follows
    airflow.trigger("model_monitoring", day)
    airflow.wait("monitoring", "dag_id = 'model_monitoring' AND run_type = 'manual'", (), 1, timeout, processes)
    where = "dag_id = 'churn_training' AND run_type = 'asset_triggered'"
    airflow.wait("drift-triggered retraining", where, (), 1, timeout, processes)
    return outcome


def finetunes_and_backfill(airflow: Airflow, day: date, days: int, processes: Processes, timeout: float) -> None:
    """Two fine-tunings at once and a backfill of ingest and both trainings over the `days` before `day`, all
    started together: the pools and the training sensors, not the harness, keep them in order. `day`'s
    fine-tune is a manual run and the day before's a backfill run, so both runs are active at once (a DAG's
    max_active_runs does not count backfill runs): only the one-slot `llm_training` pool keeps them apart."""
    airflow.trigger("llm_finetune", day, SMALL_FINETUNE)
    start, end = day - timedelta(days=days), day - timedelta(days=1)
    backfills = {"llm_finetune": (end, json.dumps(SMALL_FINETUNE))} | {
        dag_id: (start, "{}") for dag_id in ("ingest_daily", *TRAINING_DAGS)
    }
    for dag_id, (first, conf) in backfills.items():
        airflow.cli(
            "backfill", "create", "--dag-id", dag_id, "--from-date", first.isoformat(),
            "--to-date", f"{end.isoformat()}T23:59:59", "--max-active-runs", "2", "--dag-run-conf", conf,
        )  # fmt: skip
    where = "(dag_id = 'llm_finetune' AND run_type = 'manual') OR run_type = 'backfill'"
    airflow.wait("fine-tunings and backfill", where, (), 2 + 3 * days, timeout, processes)


# -- what must hold ----------------------------------------------------------------------------------------------
def tasks_per_worker(airflow: Airflow) -> dict[str, int]:
    rows = airflow.query(
        "SELECT hostname, count(*) FROM ("
        " SELECT hostname FROM task_instance WHERE hostname <> ''"
        " UNION ALL SELECT hostname FROM task_instance_history WHERE hostname <> '') t GROUP BY hostname"
    )
    return {host: count for host, count in sorted(rows)}


def runs_overlapped(airflow: Airflow, dag_id: str, run_types: tuple[str, ...]) -> bool:
    """Whether two runs of `dag_id` were active at the same time (so that only a pool could keep their tasks
    apart)."""
    rows = airflow.query(
        "SELECT start_date, end_date FROM dag_run WHERE dag_id = %s AND run_type = ANY(%s) AND start_date IS NOT NULL "
        "ORDER BY start_date",
        dag_id,
        list(run_types),
    )
    return any(later[0] < earlier[1] for earlier, later in itertools.pairwise(rows))


def pool_overlaps(airflow: Airflow, pool: str) -> list[str]:
    """Pairs of `pool` task tries whose run times overlap (a one-slot pool must have none)."""
    rows = airflow.query(
        "SELECT dag_id, run_id, task_id, start_date, end_date FROM task_instance WHERE pool = %s "
        "AND start_date IS NOT NULL ORDER BY start_date",
        pool,
    )
    overlaps = []
    for earlier, later in itertools.pairwise(rows):
        if earlier[4] is None or later[3] < earlier[4]:
            overlaps.append(f"{earlier[1]}.{earlier[2]} and {later[1]}.{later[2]}")
    return overlaps


def killed_task_outcome(airflow: Airflow, deployment: Deployment, killed: dict) -> dict:
    """Where each try of the killed task ran, how the run ended, and the registry versions it made."""
    tries = airflow.query(
        "SELECT try_number, hostname, state FROM task_instance_history WHERE dag_id = %s AND run_id = %s "
        "AND task_id = %s UNION ALL SELECT try_number, hostname, state FROM task_instance WHERE dag_id = %s "
        "AND run_id = %s AND task_id = %s ORDER BY 1",
        *(killed["dag_id"], killed["run_id"], killed["task_id"]) * 2,
    )
    model = killed["dag_id"].removesuffix("_training")
    code = (
        "import json, mlflow; c = mlflow.MlflowClient(); "
        f"print(json.dumps([dict(v.tags) for v in c.search_model_versions(\"name = '{model}-xgboost'\")]))"
    )
    versions = platform_json(deployment, code)
    mine = [v for v in versions if v.get("airflow_run_id") == killed["run_id"]]  # type: ignore[union-attr]
    return {"tries": [list(t) for t in tries], "versions_of_the_run": len(mine)}


def half_written_objects(deployment: Deployment) -> list[str]:
    """Objects that do not read back whole: every Parquet file opens, every JSON parses."""
    import io

    import pyarrow.parquet as pq

    s3 = deployment.s3_client()
    broken = []
    for uri in BUCKETS.values():
        bucket = uri.removeprefix("s3://").split("/")[0]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for item in page.get("Contents", []):
                key = item["Key"]
                if not key.endswith((".parquet", ".json")):
                    continue
                body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
                try:
                    pq.read_metadata(io.BytesIO(body)) if key.endswith(".parquet") else json.loads(body)
                except Exception as error:  # any failure to read back is the finding
                    broken.append(f"s3://{bucket}/{key}: {error}")
    return broken


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--date", type=date.fromisoformat, default=date.today())
    parser.add_argument("--backfill-days", type=int, default=7)
    parser.add_argument("--scale", default="0.2", help="DEMO_SCALE: rows per day relative to the demo config")
    parser.add_argument("--workdir", type=Path, default=REPO / ".local" / "distributed")
    parser.add_argument("--name", default="ml_platform_distributed", help="prefix of its PostgreSQL databases")
    parser.add_argument("--redis-db", type=int, default=7)
    parser.add_argument("--timeout", type=float, default=1800, help="seconds each stage may take")
    parser.add_argument("--kill-worker-in-training", action="store_true")
    args = parser.parse_args(argv)

    workdir = args.workdir.resolve()
    (workdir / "logs").mkdir(parents=True, exist_ok=True)
    processes = Processes(workdir / "logs")
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    deployment = Deployment(workdir, args.name, args.redis_db, args.scale, drift_onset=args.date)
    result: dict = {"date": args.date.isoformat(), "ok": False}
    started = time.monotonic()
    try:
        history_days = args.backfill_days + 12  # each backfilled day trains on the 10 days before it
        demo_data = ["demo-data", "--end", (args.date - timedelta(days=1)).isoformat(), "--days", str(history_days)]
        airflow, demo_written = start_services(deployment, processes, demo_data)
        dag_ids = ["ingest_daily", *TRAINING_DAGS, "kb_embedding_refresh", "model_monitoring", "llm_finetune"]
        wait_for_dags(airflow, dag_ids, processes)
        demo_written()
        result["seconds_to_start"] = round(time.monotonic() - started)
        result |= nightly_chain(airflow, args.date, processes, args.kill_worker_in_training, args.timeout)
        result["seconds_to_retraining"] = round(time.monotonic() - started)
        finetunes_and_backfill(airflow, args.date, args.backfill_days, processes, args.timeout)
        first = args.date - timedelta(days=args.backfill_days)
        result["tasks_per_worker"] = tasks_per_worker(airflow)
        result["llm_training_overlaps"] = pool_overlaps(airflow, "llm_training")
        result["finetune_runs_overlapped"] = runs_overlapped(airflow, "llm_finetune", ("manual", "backfill"))
        backfilled = [first + timedelta(days=i) for i in range(args.backfill_days)]
        verdicts = decision_verdicts(deployment, TRAINING_DAGS, backfilled)
        verdicts |= decision_verdicts(deployment, ("llm_finetune",), backfilled[-1:])
        result["backfill_verdicts"] = sorted(set(verdicts.values()))
        if "killed" in result:
            result["killed"] |= killed_task_outcome(airflow, deployment, result["killed"])
        result["half_written_objects"] = half_written_objects(deployment)
        print(ml_platform(deployment, "summary", "--date", args.date.isoformat()))
        result["ok"] = True
    except KeyboardInterrupt:
        say("interrupted: stopping everything")
        result["error"] = "interrupted"
    except Exception as error:
        say(f"FAILED: {error}")
        result["error"] = str(error)
    finally:
        result["seconds"] = round(time.monotonic() - started)
        processes.stop()
    (workdir / "result.json").write_text(json.dumps(result, indent=2, default=str))
    print(report(result))
    return 0 if result["ok"] and not problems(result) else 1


def problems(result: dict) -> list[str]:
    """What must hold after a run; each line says what did not."""
    found = []
    workers = {w for w in result.get("tasks_per_worker", {}) if w in WORKERS}
    if workers != set(WORKERS):
        found.append(f"tasks ran on {sorted(workers)}, not on both workers")
    if result.get("finetune_runs_overlapped") is False:
        found.append("the two fine-tuning runs were never active at once, so the pool was not put to the test")
    if result.get("llm_training_overlaps"):
        found.append(f"fine-tunings overlapped despite the one-slot pool: {result['llm_training_overlaps']}")
    if result.get("backfill_verdicts") not in (None, ["recorded_only"]):
        found.append(f"backfill decisions were {result['backfill_verdicts']}, not only recorded_only")
    killed = result.get("killed")
    if killed and (killed.get("versions_of_the_run") != 1 or not _retried_elsewhere(killed)):
        found.append(f"the killed task was not retried on the other worker into one version: {killed}")
    if result.get("half_written_objects"):
        found.append(f"objects that do not read back: {result['half_written_objects'][:5]}")
    return found


def _retried_elsewhere(killed: dict) -> bool:
    tries = killed.get("tries") or []
    last = tries[-1] if tries else None
    return bool(last) and last[2] == "success" and last[1] != killed["worker"] and last[0] > killed["try"]


def report(result: dict) -> str:
    lines = [f"distributed run of {result['date']}: {'ok' if result['ok'] else 'FAILED'} in {result['seconds']}s"]
    for worker, count in result.get("tasks_per_worker", {}).items():
        lines.append(f"  {worker}: {count} task tries")
    if "killed" in result:
        killed = result["killed"]
        lines.append(
            f"  killed {killed['worker']} during {killed['dag_id']}.{killed['task_id']}; tries: {killed.get('tries')}"
        )
    lines += [f"  PROBLEM: {p}" for p in problems(result)]
    if result.get("error"):
        lines.append(f"  error: {result['error']}")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
