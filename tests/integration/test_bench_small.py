"""`make bench` at its small size, so the harness cannot rot: every section runs and is written. Its figures are
printed (pytest -s shows them) and never asserted: speed lives in benchmarks, not in tests."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_the_small_benchmark_runs_every_section_and_writes_its_page(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "benchmarks/run.py", "--size", "small", "--out", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
    )
    print(done.stdout)
    assert done.returncode == 0, done.stderr[-4000:]
    report = json.loads((tmp_path / "bench-small.json").read_text())
    assert {row["stage"] for row in report["overhead"]} == {
        "lake_write",
        "lake_read",
        "validation",
        "training",
        "drift",
    }
    assert len(report["scaling"]["points"]) == 2 and {"0%", "1%", "10%"} <= set(report["incremental"])
    finetune, answers = report["llm"]["finetune"], report["llm"]["answers"]
    assert finetune["ours"]["tokens"] == finetune["bare"]["tokens"] > 0, "the two loops trained on other batches"
    assert answers["questions"] > 0
    page = (tmp_path / "bench-small.md").read_text()
    for section in ("Overhead over the same work done bare", "Incremental index refresh", "LLM: fine-tuning"):
        assert f"## {section}" in page
