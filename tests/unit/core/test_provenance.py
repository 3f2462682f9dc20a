"""The version record: what it holds, and how a rebuild's inputs are compared with it."""

from __future__ import annotations

from ml_platform.provenance import build_record, code_version, explain_differences, library_versions
from tests.conftest import REPO


def record(**changes) -> dict:
    base = build_record(
        kind="tabular",
        model="churn",
        date="2026-11-20",
        config={"name": "churn"},
        config_hash="abc",
        partitions=[{"dataset": "churn", "dt": "2026-11-19", "content_hash": "h1", "role": "train", "rows": 3}],
        seeds={"xgboost": 42},
        model_sha256="m",
        root=REPO,
    )
    return base | changes


def test_the_record_names_code_libraries_machine_and_data() -> None:
    found = record()
    assert found["code"] == code_version(REPO) and len(found["code"]["commit"]) == 40
    assert {"xgboost", "numpy", "pandas", "mlflow"} <= set(found["libraries"]) == set(library_versions())
    assert found["machine"]["cores"] and found["partitions"][0] == {
        "dataset": "churn",
        "dt": "2026-11-19",
        "content_hash": "h1",
        "role": "train",
    }


def test_identical_inputs_explain_nothing() -> None:
    clean = {"commit": "a" * 40, "dirty": False}
    assert explain_differences(record(code=clean), record(code=clean)) == []


def test_each_changed_input_is_named() -> None:
    was = record()
    now = record(
        partitions=[{"dataset": "churn", "dt": "2026-11-19", "content_hash": "h2"}],
        code={"commit": "f" * 40, "dirty": True},
        libraries=was["libraries"] | {"xgboost": "0.0.1"},
        machine=was["machine"] | {"cores": 999},
    )
    lines = explain_differences(was, now)
    assert "changed data: churn/dt=2026-11-19 was h1, is h2" in lines
    assert any(line.startswith("changed code: commit") for line in lines)
    assert "changed code: the working tree has uncommitted changes" in lines
    assert any(line.startswith("changed library: xgboost") and line.endswith("-> 0.0.1") for line in lines)
    assert any(line.startswith("different machine: cores") for line in lines)
