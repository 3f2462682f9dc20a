"""Where the reliability matrices leave their rows: docs/reliability.md is generated from these files by
scripts/reliability_doc.py (run by `make test` after the suite), never typed by hand."""

from __future__ import annotations

import json
import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def results_dir() -> Path:
    return Path(os.environ.get("RELIABILITY_RESULTS", REPO / ".local" / "reliability"))


def record_rows(matrix: str, title: str, columns: list[str], rows: list[dict[str, str]]) -> Path:
    """Keep one matrix's rows (each a dict over `columns`) for the generated document."""
    folder = results_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{matrix}.json"
    path.write_text(json.dumps({"matrix": matrix, "title": title, "columns": columns, "rows": rows}, indent=2))
    return path
