"""Same date, data and config -> the same models and the same decisions, and a version rebuilt from its record.

The nightly chain (ingest, churn training, index refresh, a small fine-tune with its evaluation) runs twice for
one date in two fresh sets of stores, in two processes with different hash seeds (so any iteration over a set
of strings would show). Everything that is not a stopwatch reading must be identical: verdicts, metrics,
losses, and the XGBoost model's and the LoRA adapter's file hashes (both bit-exact on the CPU).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from ml_platform.lake import Lake

pytestmark = [pytest.mark.integration, pytest.mark.slow]
REPO = Path(__file__).resolve().parents[2]
DAY = date(2026, 3, 12)


def environment(root: Path, hash_seed: str) -> dict[str, str]:
    return os.environ | {
        "PLATFORM_ROOT": str(REPO),
        "LAKE_URI": str(root / "lake"),
        "REPORTS_URI": str(root / "reports"),
        "LANDING_URI": str(root / "landing"),
        "MLFLOW_TRACKING_URI": f"sqlite:///{root / 'mlflow.db'}",
        "MLFLOW_ARTIFACTS_URI": str(root / "mlflow-artifacts"),
        "VECTOR_STORE_URI": str(root / "vectors"),
        "PLATFORM_SEED": "7",
        "DEMO_SCALE": "0.2",
        "PYTHONHASHSEED": hash_seed,
        # The two runs share the machine's cores: one thread each, or their OpenMP pools spin against each other.
        "OMP_NUM_THREADS": "1",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
    }


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory) -> list[tuple[dict, dict[str, str]]]:
    envs = [environment(tmp_path_factory.mktemp(f"run{seed}"), seed) for seed in ("1", "2")]
    processes = [
        subprocess.Popen(
            [sys.executable, str(REPO / "tests/integration/chain_driver.py"), DAY.isoformat()],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
        )
        for env in envs
    ]
    results = []
    for process, env in zip(processes, envs, strict=True):
        out, err = process.communicate(timeout=1200)
        assert process.returncode == 0, err[-4000:]
        [line] = [line for line in out.splitlines() if line.startswith("RESULT ")]
        results.append((json.loads(line[7:]), env))
    return results


def test_the_same_date_twice_gives_identical_models_metrics_and_decisions(two_runs) -> None:
    (first, _), (second, _) = two_runs
    assert first["churn"] == second["churn"]
    assert first["index"] == second["index"]
    assert first["assistant"] == second["assistant"]
    assert first == second
    assert first["churn"]["verdict"] == "promote" and first["assistant"]["metrics"]["challenger"]


def reproduce(env: dict[str, str], model: str, version: str) -> subprocess.CompletedProcess:
    args = ["reproduce", "--model", model, "--version", version, "--scratch", str(Path(env["LAKE_URI"]).parent / "r")]
    return subprocess.run(
        [str(Path(sys.executable).parent / "ml-platform"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO,
    )


def test_reproduce_rebuilds_a_version_and_names_a_changed_partition(two_runs) -> None:
    _, env = two_runs[0]
    done = reproduce(env, "churn", "1")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "churn-xgboost version 1: REPRODUCED, bit-exact" in done.stdout

    lake, changed = Lake.at(env["LAKE_URI"]), DAY - timedelta(days=3)
    frame = lake.read("churn", changed)
    frame.loc[frame.index[:40], "Churn"] = "No"  # a corrected export of an earlier day
    before = lake.info("churn", changed).content_hash
    after = lake.write("churn", changed, frame, lake.metadata("churn", changed)).content_hash
    # The version is rebuilt from the rows it was trained on (the lake kept them), and the change is named.
    done = reproduce(env, "churn", "1")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "churn-xgboost version 1: REPRODUCED, bit-exact" in done.stdout
    assert f"changed data: churn/dt={changed} was {before}, is {after}; rebuilt from the recorded rows" in done.stdout
    # Once the recorded rows are gone, today's rows would build another model: no rebuild, and it says why.
    shutil.rmtree(Path(env["LAKE_URI"]) / "_versions" / "churn" / f"dt={changed}")
    done = reproduce(env, "churn", "1")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "NOT REPRODUCED" in done.stdout
    assert f"partition churn dt={changed}: recorded hash {before} no longer in the lake" in done.stdout


def test_reproduce_rebuilds_the_fine_tuned_adapter_bit_for_bit(two_runs) -> None:
    _, env = two_runs[1]
    done = reproduce(env, "support_assistant", "1")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "support-assistant version 1: REPRODUCED, bit-exact" in done.stdout
    assert "ok  train_loss_final" in done.stdout
