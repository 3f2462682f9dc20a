"""Where the reliability matrices leave their rows: docs/reliability.md is generated from these files by
scripts/reliability_doc.py (run by `make test` after the suite), never typed by hand."""

from __future__ import annotations

import json
import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def results_dir() -> Path:
    return Path(os.environ.get("RELIABILITY_RESULTS", REPO / ".local" / "reliability"))


def record_rows(matrix: str, title: str, columns: list[str], rows: list[dict[str, str]], part: str = "") -> Path:
    """Keep rows (each a dict over `columns`) of a matrix for the generated document; tests that each add a
    row of the same matrix name their `part`."""
    folder = results_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (f"{matrix}--{part}.json" if part else f"{matrix}.json")
    path.write_text(json.dumps({"matrix": matrix, "title": title, "columns": columns, "rows": rows}, indent=2))
    return path


FAULT_COLUMNS = ["fault", "what was retried", "what the user saw", "what was lost"]


def record_fault(case: str, *, fault: str, retried: str, saw: str, lost: str) -> Path:
    """One row of the fault matrix, as its test observed it."""
    row = dict(zip(FAULT_COLUMNS, (fault, retried, saw, lost), strict=True))
    return record_rows("faults", "Faults on the embedded defaults", FAULT_COLUMNS, [row], part=case)
