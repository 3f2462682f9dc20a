"""The bad-input matrix: every kind of bad file or date, through the real ingest_daily and training DAGs.

A world with a churn and a fraud champion and a live help-centre index is built once; then each case lands
one bad file for its own date (every other table of that date lands clean) and runs `ingest_daily` with
source=landing and, where the file gets past ingest, the model's training DAG. Each case must end in one
clear error that names the file, column or date (read from the alert Airflow's failure callback sent), with
a quarantine where a partition landed, while the champions, the live index, every earlier partition and
the landed file itself stay exactly as they were. The rows feed docs/reliability.md.
"""

from __future__ import annotations

import io
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from ml_platform import names
from ml_platform.datasets.churn import generate_churn
from ml_platform.datasets.fraud import generate_fraud
from ml_platform.datasets.scenario import Scenario
from ml_platform.datasets.support import generate_support
from ml_platform.lake import Lake
from ml_platform.retrieval.stores import open_vector_store
from tests.helpers import Receiver
from tests.reliability import record_rows

pytestmark = [pytest.mark.integration, pytest.mark.slow]
D0 = date(2026, 5, 10)
HISTORY = 5
FUTURE = (datetime.now(UTC) + timedelta(days=30)).date()
MODELS = {"churn": "churn-xgboost", "fraud": "fraud-xgboost"}


def csv_bytes(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode()


def with_value(column: str, value: str, share: float = 0.2) -> Callable[[pd.DataFrame], bytes]:
    def make(frame: pd.DataFrame) -> bytes:
        out = frame.astype({column: "object"})
        out.loc[out.index[: max(1, int(len(out) * share))], column] = value
        return csv_bytes(out)

    return make


def duplicated_header(frame: pd.DataFrame) -> bytes:
    text = csv_bytes(frame).decode()
    header, body = text.split("\n", 1)
    return f"{header.replace('MonthlyCharges', 'tenure')}\n{body}".encode()


def truncated_parquet(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()[: len(buffer.getvalue()) // 2]


def shifted_a_day(frame: pd.DataFrame) -> bytes:
    return csv_bytes(frame.assign(event_time=frame["event_time"] - timedelta(days=1)))


@dataclass(frozen=True)
class Case:
    kind: str
    table: str
    make: Callable[[pd.DataFrame], bytes]
    caught_by: str  # "ingest" (refused before anything lands) or "validation" (landed, then quarantined)
    names: str  # a regex the error must match: the file, column or date it is about
    suffix: str = ".csv"


CASES = [
    Case("empty file", "churn", lambda f: b"", "ingest", r"churn/{day}\.csv cannot be read as csv"),
    Case("header only", "churn", lambda f: csv_bytes(f.head(0)), "ingest", r"churn/{day}\.csv holds no rows"),
    Case(
        "non-UTF-8 text",
        "churn",
        lambda f: csv_bytes(f).decode().replace("Female", "Fémale").encode("latin-1"),
        "ingest",
        r"churn/{day}\.csv is not UTF-8",
    ),
    Case(
        "duplicated header", "churn", duplicated_header, "ingest", r"churn/{day}\.csv has a duplicated header: tenure"
    ),
    Case(
        "extra column",
        "churn",
        lambda f: csv_bytes(f.assign(region="north")),
        "ingest",
        r"not in the churn schema: region",
    ),
    Case("missing column", "churn", lambda f: csv_bytes(f.drop(columns="tenure")), "ingest", r"MISSING .*tenure"),
    Case(
        "wrong dtype",
        "churn",
        with_value("tenure", "twelve"),
        "ingest",
        r"churn/{day}\.csv refused: tenure: \d+ value\(s\) not readable as int \(row 1: 'twelve'",
    ),
    Case(
        "int overflow", "churn", with_value("tenure", "99999999999999999999", 0.01), "validation", r"between on tenure"
    ),
    Case("inf", "churn", with_value("MonthlyCharges", "inf", 0.01), "validation", r"between on MonthlyCharges"),
    Case("blank labels", "churn", with_value("Churn", ""), "validation", r"not_be_null on Churn"),
    Case(
        "labels all one class", "churn", with_value("Churn", "No", 1.0), "validation", r"mean_to_be_between on _Churn"
    ),
    Case("unknown category", "churn", with_value("Contract", "Weekly"), "validation", r"in_set on Contract"),
    Case(
        "duplicate ids",
        "churn",
        lambda f: csv_bytes(f.assign(customerID=f["customerID"].where(f.index % 5 > 0, f["customerID"].iloc[0]))),
        "validation",
        r"unique on customerID",
    ),
    Case("dates outside the partition", "fraud", shifted_a_day, "validation", r"fraud partition dt={day}.*event_time"),
    Case(
        "truncated Parquet",
        "churn",
        truncated_parquet,
        "ingest",
        r"churn/{day}\.parquet cannot be read as parquet",
        suffix=".parquet",
    ),
    Case(
        "KB article with an empty body",
        "support_kb",
        lambda f: csv_bytes(f.assign(body=f["body"].where(f.index > 0, ""))),
        "ingest",
        r"support_kb/{day}\.csv refused: body: 1 blank value\(s\), e\.g\. at article_id",
    ),
]


def clean_tables(day: date) -> dict[str, pd.DataFrame]:
    """Every landed table of a day, as a real feed would send it (the generators' ground-truth columns off)."""
    support, _ = generate_support(day, 7, Scenario(), chats=30, eval_questions=12)
    support["support_chats"] = support["support_chats"].drop(columns=["contains_pii", "contains_injection"])
    return {
        "churn": generate_churn(day, 7, Scenario(), rows=600, population=3000)[0],
        "fraud": generate_fraud(day, 7, Scenario(), rows=3000, customers=600, merchants=160)[0],
        **support,
    }


def land(landing: Path, day: date, case: Case | None) -> Path | None:
    """Clean files for every table of `day`, with `case`'s table replaced by its bad file; returns that file."""
    bad = None
    for table, frame in clean_tables(day).items():
        folder = landing / table
        folder.mkdir(parents=True, exist_ok=True)
        if case is not None and table == case.table:
            bad = folder / f"{day}{case.suffix}"
            bad.write_bytes(case.make(frame))
        else:
            frame.to_parquet(folder / f"{day}.parquet", index=False)
    return bad


class World:
    def __init__(self, airflow, root: Path):
        self.airflow = airflow
        self.env = {
            "LAKE_URI": str(root / "lake"),
            "REPORTS_URI": str(root / "reports"),
            "LANDING_URI": str(root / "landing"),
            "MLFLOW_TRACKING_URI": f"sqlite:///{root / 'mlflow.db'}",
            "MLFLOW_ARTIFACTS_URI": str(root / "mlflow-artifacts"),
            "VECTOR_STORE_URI": str(root / "vectors"),
        }
        self.lake = Lake.at(self.env["LAKE_URI"])

    def state(self) -> dict:
        """Everything a bad input must not change."""
        import mlflow

        mlflow.set_tracking_uri(self.env["MLFLOW_TRACKING_URI"])
        client = mlflow.MlflowClient()
        return {
            "aliases": {m: dict(client.get_registered_model(m).aliases) for m in MODELS.values()},
            "versions": {m: len(client.search_model_versions(f"name = '{m}'")) for m in MODELS.values()},
            "live_index": open_vector_store(self.env["VECTOR_STORE_URI"]).live_index(),
            "partitions": {
                (table, day): self.lake.info(table, day).content_hash
                for table in ("churn", "fraud", "support_kb")
                for day in self.lake.dates(table)
            },
        }


@pytest.fixture(scope="module")
def world(embedded_airflow, tmp_path_factory) -> World:
    world = World(embedded_airflow, tmp_path_factory.mktemp("bad-input"))
    bin_dir = Path(embedded_airflow.env["PATH"].split(":")[0])
    subprocess.run(
        [str(bin_dir / "ml-platform"), "demo-data", "--end", D0.isoformat(), "--days", str(HISTORY)],
        env=embedded_airflow.env | world.env,
        check=True,
        capture_output=True,
        timeout=600,
    )
    setup = [{"dag_id": d, "date": D0.isoformat()} for d in ("churn_training", "fraud_training", names.KB_REFRESH)]
    runs = embedded_airflow.dag_tests(setup, world.env)
    assert [r["state"] for r in runs] == ["success"] * 3, runs
    return world


def test_every_bad_input_ends_in_one_clear_error_and_changes_nothing(world: World) -> None:
    before = world.state()
    assert all(before["aliases"][m].get("champion") for m in MODELS.values()) and before["live_index"], before
    landing = Path(world.env["LANDING_URI"])
    plan, bad_files = [], {}
    for offset, case in enumerate(CASES, 1):
        day = D0 + timedelta(days=offset)
        bad_files[case.kind] = (day, land(landing, day, case))
        plan.append({"dag_id": names.INGEST, "date": day.isoformat(), "conf": {"source": "landing"}})
        if case.caught_by == "validation":
            plan.append({"dag_id": f"{case.table}_training", "date": day.isoformat()})
    plan.append({"dag_id": names.INGEST, "date": FUTURE.isoformat(), "conf": {"source": "landing"}})
    landed_bytes = {kind: path.read_bytes() for kind, (_, path) in bad_files.items()}

    receiver = Receiver()
    try:
        runs = world.airflow.dag_tests(plan, world.env | {"ALERT_WEBHOOK_URL": receiver.url}, timeout=1200)
    finally:
        receiver.close()
    alerts = {(a["dag_id"], a["date"]): a for a in receiver.received}
    after = world.state()
    rows = []
    for case in CASES:
        day, path = bad_files[case.kind]
        dag_id = names.INGEST if case.caught_by == "ingest" else f"{case.table}_training"
        [run] = [r for r in runs if r["dag_id"] == dag_id and r["date"] == day.isoformat()]
        alert = alerts[(dag_id, day.isoformat())]
        assert run["state"] == "failed", (case.kind, run)
        assert re.search(case.names.format(day=day), alert["message"], re.S), (case.kind, alert["message"])
        assert alert["retryable"] is False, (case.kind, alert)
        quarantined = [q for q in world.lake.quarantined(case.table) if q["dt"] == day.isoformat()]
        if case.caught_by == "validation":
            assert len(quarantined) == 1 and not world.lake.exists(case.table, day), case.kind
        else:
            assert not quarantined and not world.lake.exists(case.table, day), case.kind
        assert path.read_bytes() == landed_bytes[case.kind], f"{case.kind}: the landed file was changed"
        rows.append(row(case.kind, alert, quarantined, path.parent.parent))
    future = alerts[(names.INGEST, FUTURE.isoformat())]
    assert "in the future" in future["message"] and future["retryable"] is False
    rows.append(row("a future date", future, [], landing) | {"stopped by": "ingest_daily, every task (the run's date)"})
    rows.append(reversed_range(world, landing))

    # Nothing that was good before is changed or lost.
    assert after["aliases"] == before["aliases"] and after["versions"] == before["versions"]
    assert after["live_index"] == before["live_index"]
    assert {k: v for k, v in after["partitions"].items() if k in before["partitions"]} == before["partitions"]
    record_rows(
        "bad_input",
        "Bad input, through ingest_daily and the training DAGs",
        ["input", "stopped by", "what the user sees", "quarantined", "champions and live index", "lost"],
        rows,
    )
    assert len(rows) >= 15


def row(kind: str, alert: dict, quarantined: list[dict], landing: Path) -> dict[str, str]:
    message = alert["message"].replace(f"{landing.resolve().as_uri()}/", "LANDING_URI/")
    message = message.replace(str(landing.resolve()) + "/", "LANDING_URI/").splitlines()
    shown = " ".join(line.strip() for line in message[:2])
    return {
        "input": kind,
        "stopped by": f"{alert['dag_id']}.{alert['task_id']}",
        "what the user sees": shown[:220] + ("…" if len(shown) > 220 else ""),
        "quarantined": "yes, with reason.json" if quarantined else "nothing landed",
        "champions and live index": "unchanged",
        "lost": "nothing",
    }


def reversed_range(world: World, landing: Path) -> dict[str, str]:
    """A range whose end is before its start, given to the importer (the ingest path for date ranges)."""
    export = landing / "export.csv"
    export.write_bytes(csv_bytes(clean_tables(D0)["churn"]))
    bin_dir = Path(world.airflow.env["PATH"].split(":")[0])
    end = D0 - timedelta(days=3)
    args = ["import-data", "--dataset", "churn", "--file", str(export), "--start", str(D0), "--end", str(end)]
    done = subprocess.run(
        [str(bin_dir / "ml-platform"), *args],
        env=world.airflow.env | world.env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2 and f"end date {end} is before start date {D0}" in done.stderr, done.stderr
    return {
        "input": "a reversed date range",
        "stopped by": "ml-platform import-data",
        "what the user sees": done.stderr.strip(),
        "quarantined": "nothing landed",
        "champions and live index": "unchanged",
        "lost": "nothing",
    }
