"""DAG files stay cheap to parse: no heavy libraries at module level, little import time of their own.

Measured in a fresh interpreter per file, after Airflow's own SDK is imported, so the figure is what the
file itself adds to every parse of the DAG processor.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DAG_FILES = sorted((REPO / "dags").glob("*.py"))
HEAVY = (
    "torch",
    "transformers",
    "xgboost",
    "great_expectations",
    "evidently",
    "mlflow",
    "peft",
    "lancedb",
    "sentence_transformers",
    "weaviate",
    "sklearn",
)
BUDGET_S = 0.5

PROBE = """
import json, runpy, sys, time
sys.path.insert(0, {dags!r})
import airflow.sdk  # the baseline every DAG file pays anyway
from airflow.sdk import Asset, Param, dag, task  # noqa: F401  (lazy attributes: resolve them up front)
started = time.perf_counter()
runpy.run_path({path!r})
elapsed = time.perf_counter() - started
print(json.dumps({{"seconds": elapsed, "heavy": sorted(m for m in {heavy!r} if m in sys.modules)}}))
"""


@pytest.mark.parametrize("path", DAG_FILES, ids=[p.name for p in DAG_FILES])
def test_dag_file_imports_fast_and_without_heavy_libraries(path: Path) -> None:
    code = PROBE.format(dags=str(REPO / "dags"), path=str(path), heavy=HEAVY)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["heavy"] == [], f"{path.name} imports {result['heavy']} at module level"
    assert result["seconds"] < BUDGET_S, f"{path.name} adds {result['seconds']:.2f}s to every parse"
