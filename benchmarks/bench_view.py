"""How fast the ML Ops view's pages are with a year of daily records.

Writes a year of records in the shapes the pipelines write (training, decision attempts, drift, evaluation,
index refresh, and the report files beside them) into a scratch reports location, then times what each page
computes: the first request of a process (decision attempts parsed) and later ones (attempts cached), median
of several runs, with the inline SVG chart included where the page has one.

    .venv/bin/python benchmarks/bench_view.py [--days 365] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from ml_platform import names
from ml_platform.dashboard import charts, records
from ml_platform.reports import Reports

END = date(2026, 11, 30)


def _decision(model: str, day: date, verdict: str, version: int) -> dict:
    return {
        "model": model,
        "registered_model": f"{model}-model",
        "date": day.isoformat(),
        "run_type": "scheduled",
        "airflow_run_id": f"scheduled__{day}",
        "challenger_version": str(version),
        "champion_before": str(version - 1),
        "champion_after": str(version if verdict == "promote" else version - 1),
        "challenger_metrics": {"roc_auc": 0.8},
        "champion_metrics": {"roc_auc": 0.79},
        "gates": [{"gate": "primary_metric", "passed": verdict == "promote", "detail": "..."}],
        "verdict": verdict,
        "reasons": ["generated for the benchmark"],
        "aliases_moved": verdict == "promote",
        "try_number": 1,
        "recorded_at": f"{day}T02:00:00+00:00",
    }


def write_year(reports: Reports, days: int) -> int:
    """A year of nightly records of both tabular models, the assistant and the index; returns files written."""
    rng = np.random.default_rng(0)
    written = 0
    assistant = records.find_view("support_assistant")
    for offset in range(days):
        day = END - timedelta(days=days - 1 - offset)
        for view in records.model_views():
            verdict = "promote" if rng.random() < 0.2 else "reject"
            decision = _decision(view.name, day, verdict, offset + 2)
            reports.append_json(view.pipeline, day, names.DECISION, f"{day}T020000Z-try1", decision)
            written += 2
            if view.kind == "tabular":
                metrics = {view.primary_metric: 0.78 + rng.normal(0, 0.01)}
                training = {"metrics": metrics, "oracle_roc_auc": 0.8}
                reports.write_json(view.pipeline, day, names.TRAINING, training)
                drift = {"share_drifted": float(rng.uniform(0, 0.5)), "share_threshold": 0.3}
                reports.write_json(names.MONITORING, day, view.drift_record, drift)
                reports.write_bytes(view.pipeline, day, "validation.html", b"<html>" + b"x" * 20_000)
                for plot in ("roc_curve", "pr_curve", "calibration", "feature_importance"):
                    reports.write_bytes(view.pipeline, day, f"{plot}.png", b"\x89PNG" + b"x" * 30_000)
                reports.write_bytes(names.MONITORING, day, names.drift_report(view.name), b"<html>" + b"x" * 50_000)
                written += 9
        rates = {"correctness": 0.42, "hallucination_rate": 0.11, "abstention_accuracy": 0.5}
        evaluation = {
            "models": {"challenger": rates},
            "intervals": {"challenger": {rate: [v - 0.08, v + 0.08] for rate, v in rates.items()}},
        }
        reports.write_json(assistant.pipeline, day, names.EVALUATION, evaluation)
        reports.write_json(
            names.MONITORING, day, names.ASSISTANT_MONITORING, {"embedding_drift": {"score": 0.1, "threshold": 0.3}}
        )
        refresh = {
            "index_name": f"kb_{day:%Y%m%d}",
            "chunks_total": 5000,
            "vectors": 5000,
            "embedded": 50,
            "hit_rate": 0.95,
            "hit_rate_floor": 0.8,
            "live_before": f"kb_{day - timedelta(days=1):%Y%m%d}",
            "live_after": f"kb_{day:%Y%m%d}",
            "promoted": True,
            "recorded_only": False,
            "reason": "generated",
            "k": 3,
        }
        reports.write_json(names.KB_REFRESH, day, names.REFRESH, refresh)
        written += 3
    return written


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """(first call, median of the next `repeat`) in milliseconds."""
    started = time.perf_counter()
    fn()
    first = (time.perf_counter() - started) * 1000
    later = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        later.append((time.perf_counter() - started) * 1000)
    return first, statistics.median(later)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        reports = Reports.at(str(Path(scratch) / "reports"))
        started = time.perf_counter()
        files = write_year(reports, args.days)
        print(f"wrote {files:,} record files for {args.days} days in {time.perf_counter() - started:.1f} s")
        pages = {
            "decisions (all models, newest 200)": lambda: records.decisions(reports, limit=200),
            "decisions (one model)": lambda: records.decisions(reports, "churn"),
            "trends of churn + chart": lambda: charts.tabular_trend_svg(records.trends(reports, "churn")),
            "trends of the assistant + chart": lambda: charts.assistant_trend_svg(
                records.trends(reports, "support_assistant")
            ),
            "live index + chart": lambda: charts.index_svg(records.live_index(reports)),
            "reports (newest 30 days)": lambda: records.report_links(reports),
        }
        results = {}
        print(f"\n| page ({args.days} days of records) | first request (ms) | later requests, median (ms) |")
        print("|---|---|---|")
        for page, build in pages.items():
            first, later = timed(build, args.repeat)
            results[page] = {"first_ms": round(first, 1), "median_ms": round(later, 1)}
            print(f"| {page} | {first:,.0f} | {later:,.0f} |")
        print("\n" + json.dumps({"days": args.days, "pages": results}))


if __name__ == "__main__":
    main()
