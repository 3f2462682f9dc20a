"""The fault matrix on the embedded defaults: a step killed (SIGKILL) or cut off in the middle of its work,
then retried the way Airflow retries a task; and two runs of one date at once.

Each case checks what production state looked like right after the fault (champion, live index, lake) and
after the retry, and records what was retried, what the user saw and what was lost (the goal: nothing) for
docs/reliability.md. The fine-tune kill lives in test_finetune_resume.py, which records its own row.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from ml_platform.lake import Lake
from ml_platform.reports import Reports
from tests.reliability import record_fault

pytestmark = [pytest.mark.integration, pytest.mark.slow]
REPO = Path(__file__).resolve().parents[2]
D0 = date(2026, 4, 10)
MODEL = "churn-xgboost"


class World:
    def __init__(self, root: Path):
        self.env = os.environ | {
            "PLATFORM_ROOT": str(REPO),
            "LAKE_URI": str(root / "lake"),
            "REPORTS_URI": str(root / "reports"),
            "LANDING_URI": str(root / "landing"),
            "MLFLOW_TRACKING_URI": f"sqlite:///{root / 'mlflow.db'}",
            "MLFLOW_ARTIFACTS_URI": str(root / "mlflow-artifacts"),
            "VECTOR_STORE_URI": str(root / "vectors"),
            "PLATFORM_SEED": "7",
            "DEMO_SCALE": "0.2",
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
        }
        self.lake = Lake.at(self.env["LAKE_URI"])
        self.reports = Reports.at(self.env["REPORTS_URI"])

    def drive(self, step: str, day: date, fault: str | None = None, **env: str) -> dict:
        """One task process; returns its record, or what it printed before failing or being killed."""
        args = [sys.executable, str(REPO / "tests/integration/fault_driver.py"), step, day.isoformat()]
        process = subprocess.Popen(
            [*args, *([fault] if fault else [])],
            env=self.env | env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
        )
        return self._outcome(process, process.communicate(timeout=600))

    @staticmethod
    def _outcome(process: subprocess.Popen, streams: tuple[str, str]) -> dict:
        lines = streams[0].splitlines()
        failures = [json.loads(line[7:]) for line in lines if line.startswith("FAILED ")]
        results = [json.loads(line[7:]) for line in lines if line.startswith("RESULT ")]
        return {
            "returncode": process.returncode,
            "record": results[0] if results else None,
            "failures": failures,
            "stderr": streams[1][-3000:],
        }

    def aliases(self) -> dict[str, str]:
        import mlflow

        mlflow.set_tracking_uri(self.env["MLFLOW_TRACKING_URI"])
        try:
            return {k: str(v) for k, v in mlflow.MlflowClient().get_registered_model(MODEL).aliases.items()}
        except mlflow.exceptions.MlflowException:
            return {}

    def versions(self) -> list[str]:
        import mlflow

        mlflow.set_tracking_uri(self.env["MLFLOW_TRACKING_URI"])
        return sorted(str(v.version) for v in mlflow.MlflowClient().search_model_versions(f"name = '{MODEL}'"))

    def failed_runs(self) -> int:
        import mlflow

        mlflow.set_tracking_uri(self.env["MLFLOW_TRACKING_URI"])
        client = mlflow.MlflowClient()
        experiment = client.get_experiment_by_name(MODEL).experiment_id
        return len(client.search_runs([experiment], "attributes.status = 'FAILED'"))

    def version_tags(self, version: str) -> dict[str, str]:
        import mlflow

        mlflow.set_tracking_uri(self.env["MLFLOW_TRACKING_URI"])
        return mlflow.MlflowClient().get_model_version(MODEL, version).tags

    def live_index(self) -> str | None:
        from ml_platform.retrieval.stores import open_vector_store

        with open_vector_store(self.env["VECTOR_STORE_URI"]) as store:
            return store.live_index()


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> World:
    world = World(tmp_path_factory.mktemp("faults"))
    bin_dir = Path(sys.executable).parent
    for group, end, days in (("churn", D0 + timedelta(days=4), 9), ("support", D0 + timedelta(days=1), 2)):
        subprocess.run(
            [str(bin_dir / "ml-platform"), "demo-data", "--end", str(end), "--days", str(days), "--group", group],
            env=world.env,
            check=True,
            capture_output=True,
            timeout=600,
        )
    # MLflow creates its tables on first use; two first uses at once would race on the schema, not on aliases.
    prepare = "from ml_platform.registry import ModelRegistry as R; from ml_platform.settings import Settings as S; "
    prepare += f"R(S.from_env()).experiment_id({MODEL!r})"
    subprocess.run([sys.executable, "-c", prepare], env=world.env, check=True, capture_output=True, timeout=300)
    return world


def killed(outcome: dict) -> bool:
    return outcome["returncode"] == -9 and outcome["record"] is None


def test_two_runs_of_one_date_at_once_promote_at_most_once(world: World) -> None:
    processes = [
        subprocess.Popen(
            [sys.executable, str(REPO / "tests/integration/fault_driver.py"), "train", D0.isoformat()],
            env=world.env | {"RUN_ID": run_id},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
        )
        for run_id in (f"scheduled__{D0}", f"manual__{D0}")
    ]
    outcomes = [World._outcome(p, p.communicate(timeout=600)) for p in processes]
    assert all(o["returncode"] == 0 for o in outcomes), [o["stderr"] for o in outcomes]
    verdicts = sorted(o["record"]["verdict"] for o in outcomes)
    assert verdicts.count("promote") == 1, verdicts
    metrics = [o["record"]["challenger_metrics"] for o in outcomes]
    assert metrics[0] == metrics[1], "same date, same data, same config: the same model"
    history = world.reports.history("churn_training", D0, "decision")
    assert len(history) == 2 and world.aliases()["champion"] in {o["record"]["challenger_version"] for o in outcomes}
    retried = sorted({f["error"].split(":")[0] for o in outcomes for f in o["failures"]})
    record_fault(
        "concurrent_runs",
        fault="two runs of the same date at once (two processes, train and decide)",
        retried=f"the attempt that failed ({', '.join(retried)}), judged again against the new champion"
        if retried
        else "nothing: the second decision already saw the first one's champion",
        saw=f"verdicts {' and '.join(verdicts)} on identical metrics ({len(world.versions())} version(s) "
        "registered); both decisions kept in the history",
        lost="nothing; one promotion",
    )


def test_sigkill_during_training_leaves_no_trace_and_the_retry_trains(world: World) -> None:
    day, before = D0 + timedelta(days=1), world.aliases()
    versions = world.versions()
    assert killed(world.drive("train", day, "fit"))
    assert world.aliases() == before and world.versions() == versions
    retry = world.drive("train", day)
    assert retry["returncode"] == 0 and retry["record"]["challenger_version"] not in versions
    record_fault(
        "kill_training",
        fault="SIGKILL during training (model fitted, nothing logged)",
        retried="the train task, from the start",
        saw=f"a task killed with SIGKILL, then a retry that registered version {retry['record']['challenger_version']} "
        f"({retry['record']['verdict']})",
        lost="nothing (the killed attempt had written nothing)",
    )


def test_sigkill_after_registration_keeps_the_champion_and_the_retry_completes(world: World) -> None:
    day, before = D0 + timedelta(days=2), world.aliases()
    versions = world.versions()
    assert killed(world.drive("train", day, "register"))
    orphans = sorted(set(world.versions()) - set(versions))
    assert orphans, "killed before the version was registered: too early to prove anything"
    assert world.aliases() == before, "a registered, unjudged version never moves an alias"
    retry = world.drive("train", day)
    assert retry["returncode"] == 0 and [retry["record"]["challenger_version"]] == orphans
    assert world.version_tags(orphans[0])["partition_date"] == day.isoformat(), "the retry completed its tags"
    record_fault(
        "kill_registration",
        fault="SIGKILL after the version is registered, before it is tagged and judged",
        retried="the train task: it finds the finished run by its training key and reuses its version",
        saw=f"version {orphans[0]} registered without tags and never aliased until the retry completed its tags "
        f"from its run and judged it ({retry['record']['verdict']})",
        lost="nothing, and nothing trained twice",
    )


def test_a_locked_registry_fails_the_attempt_and_the_retry_registers(world: World) -> None:
    day, before = D0 + timedelta(days=3), world.aliases()
    versions = world.versions()
    locked = world.drive("train", day, "lock_registry")
    assert locked["returncode"] == 1 and "locked" in locked["failures"][0]["error"], locked
    assert world.aliases() == before
    assert world.failed_runs() == 1, "the interrupted attempt stays in MLflow, marked FAILED"
    retry = world.drive("train", day)
    assert retry["returncode"] == 0, retry
    new = sorted(set(world.versions()) - set(versions))
    assert retry["record"]["challenger_version"] in new
    record_fault(
        "registry_locked",
        fault="MLflow's database locked by another writer while the model is registered",
        retried="the train task (a retryable failure)",
        saw=locked["failures"][0]["error"][:200],
        lost="nothing; the failed attempt's MLflow run stays as FAILED",
    )


def test_sigkill_during_a_lake_write_leaves_the_old_partition_whole(world: World) -> None:
    day = D0 + timedelta(days=4)
    before = world.lake.info("churn", day)
    # Other data for the same date (another seed), from the same source: a legitimate replacement.
    assert killed(world.drive("ingest", day, "lake_rename", PLATFORM_SEED="8"))
    assert world.lake.info("churn", day) == before, "readers still see the old partition, whole"
    assert world.lake.dates("churn", day, day) == [day] and world.lake.read("churn", day) is not None
    retry = world.drive("ingest", day, PLATFORM_SEED="8")
    assert retry["returncode"] == 0
    after = world.lake.info("churn", day)
    assert after.content_hash != before.content_hash
    assert [v["content_hash"] for v in world.lake.versions("churn", day)] == [before.content_hash]
    record_fault(
        "kill_lake_write",
        fault="SIGKILL during a lake write (new bytes on disk, not yet renamed into place)",
        retried="the ingest task",
        saw="the old partition, whole, until the retry replaced it; a hidden temporary file left behind",
        lost="nothing; the replaced rows are kept under _versions/",
    )


def test_sigkill_before_the_index_switch_keeps_the_live_index(world: World) -> None:
    first = world.drive("refresh", D0)
    assert first["returncode"] == 0, first
    live = world.live_index()
    day = D0 + timedelta(days=1)
    kb = world.lake.read("support_kb", day)  # an edited article: the next day's index differs from the live one
    kb.loc[0, "body"] = kb.loc[0, "body"] + " Roaming data now also works on cruise ships."
    world.lake.write("support_kb", day, kb, world.lake.metadata("support_kb", day))
    assert killed(world.drive("refresh", day, "switch"))
    assert world.live_index() == live, "the live index never changed"
    retry = world.drive("refresh", day)
    assert retry["returncode"] == 0 and world.live_index() == retry["record"]["live_after"] != live
    record_fault(
        "kill_index_switch",
        fault="SIGKILL during an index refresh (new index built and checked, not yet switched)",
        retried="the refresh task",
        saw=f"the live index {live} answering throughout; the retry switched to {retry['record']['live_after']}",
        lost="nothing",
    )


def test_an_object_store_outage_mid_write_is_retried_without_loss(settings, s3_bucket, monkeypatch) -> None:
    """S3 (a moto server) unreachable after the first of a group's tables landed; the retry lands the rest."""
    from ml_platform.config.pipelines import load_ingest_config
    from ml_platform.pipelines.ingest import ingest_step
    from ml_platform.run_context import RunContext
    from ml_platform.settings import Settings
    from tests.helpers import Outage

    lake_uri = f"s3://{s3_bucket}/lake"
    outage = Outage(os.environ["AWS_ENDPOINT_URL"])
    monkeypatch.setenv("AWS_ENDPOINT_URL", outage.url)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "2")
    monkeypatch.setenv("LAKE_URI", lake_uri)
    settings = Settings.from_env()
    group, ctx = load_ingest_config().groups["support"], RunContext(D0, "scheduled", "scheduled__s3", "ingest_daily")
    original = Lake.write
    written: list[str] = []

    def write_then_cut(self, dataset, *args, **kwargs):
        info = original(self, dataset, *args, **kwargs)
        written.append(dataset)
        outage.start()  # the store goes away after the first table landed
        return info

    monkeypatch.setattr(Lake, "write", write_then_cut)
    with pytest.raises(Exception) as failed:
        ingest_step(group, settings, ctx)
    landed_before = [t for t in group.tables if Lake.at(lake_uri).exists(t, D0)] if outage.stop() else []
    monkeypatch.setattr(Lake, "write", original)
    record = ingest_step(group, settings, ctx)
    lake = Lake.at(lake_uri)
    assert written == [group.tables[0]] and landed_before == [group.tables[0]]
    assert all(lake.exists(t, D0) for t in group.tables)
    assert [p["dataset"] for p in record["partitions"]] == list(group.tables)
    outage.close()
    record_fault(
        "object_store_outage",
        fault="the object store (moto S3) unreachable mid-write, after 1 of 4 tables landed",
        retried="the ingest task; the landed table is rewritten only if its rows differ (they did not)",
        saw=f"{type(failed.value).__name__}: {str(failed.value)[:160]}",
        lost="nothing",
    )
