"""Point Airflow at this repo's dags/ and a throwaway home before anything imports it."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
_HOME = tempfile.mkdtemp(prefix="airflow-dag-tests-")
os.environ.setdefault("AIRFLOW_HOME", _HOME)
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(REPO / "dags")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ.setdefault("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", f"sqlite:///{_HOME}/airflow.db")

# Airflow puts the DAGs folder on sys.path before parsing; do the same so `wiring` imports here too.
sys.path.insert(0, str(REPO / "dags"))
