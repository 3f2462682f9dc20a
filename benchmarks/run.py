"""`make bench`: what the platform costs over the same work done bare, how it grows with data, and what
Airflow's embedded mode holds at idle. Prints tables, writes JSON and docs/benchmarks.md.

Every figure is measured in this run beside its baseline, on the same data: each (case, variant) in its own
process (`benchmarks/cases.py`), so a peak RSS (getrusage: native allocations included) belongs to one case;
several repetitions, median and spread (min-max) reported.

    python benchmarks/run.py                 # the full run (about 20 minutes on 2 cores)
    python benchmarks/run.py --size small    # a few minutes: what CI runs so the harness cannot rot
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
DAY = date(2026, 11, 20)
TARGET_RATIO = 1.10
SIZES = {  # rows per fraud day for the overhead cases; rows for scaling; KB articles; repetitions; LLM work
    "small": {
        "rows": 5_000,
        "scaling": [5_000, 10_000],
        "articles": 60,
        "repeat": 2,
        "finetune_steps": 2,
        "questions": 4,
    },
    "full": {
        "rows": 100_000,
        "scaling": [100_000, 1_000_000, 5_000_000],
        "articles": 5_000,
        "repeat": 3,
        "finetune_steps": 8,
        "questions": 24,
    },
}
STAGES = {  # case: (what ours does, what the bare baseline does)
    "lake_write": ("Lake.write", "pyarrow write_table"),
    "lake_read": ("Lake.read", "pyarrow read_table"),
    "validation": ("validate_partition", "GX running the same suite"),
    "training": ("train_and_evaluate", "XGBoost fit + eval set, predictions, F1 threshold"),
    "drift": ("tabular_drift", "Evidently, same preset and frames"),
}
SECTIONS = ("overhead", "scaling", "incremental", "llm", "view", "airflow_cost", "airflow_idle")
# Longer than make bench's 30 minutes together: its own target (make bench-backfill), kept in the same page.
EXTRA_SECTIONS = ("backfill",)
# Shape the figures beyond what a registered version records (ml_platform.provenance.LIBRARIES).
BENCH_LIBRARIES = ("sentence-transformers", "lancedb", "apache-airflow")


def fraud_days(folder: Path, rows: int) -> Path:
    """Three consecutive fraud days (train, validation, evaluation) as Parquet, generated once per size."""
    from ml_platform.datasets.fraud import generate_fraud
    from ml_platform.datasets.scenario import Scenario

    folder.mkdir(parents=True, exist_ok=True)
    for i in range(3):
        day = DAY - timedelta(days=2 - i)
        frame, _ = generate_fraud(day, 1, Scenario(), rows=rows, customers=max(100, rows // 5))
        frame.to_parquet(folder / f"fraud-{i}.parquet")
    return folder


def child_json(script: str, *args: str) -> dict:
    """Run one of the benchmark scripts in its own process; its last line of output is its JSON result."""
    done = subprocess.run(
        [sys.executable, str(HERE / script), *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
        env=os.environ | {"PYTHONHASHSEED": "0"},
    )
    if done.returncode != 0:
        raise RuntimeError(f"{script} {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_case(case: str, variant: str, data: Path, repeat: int, warmup: bool = True) -> dict:
    options = ["--data", str(data), "--repeat", str(repeat), *(["--warmup"] if warmup else [])]
    result = child_json("cases.py", case, variant, *options)
    seconds = result["seconds"]
    return result | {"median_s": statistics.median(seconds), "min_s": min(seconds), "max_s": max(seconds)}


def overhead(data: Path, repeat: int) -> list[dict]:
    rows = []
    for case, (ours_label, bare_label) in STAGES.items():
        variants = ["ours", "bare"] + (["bare_same_guarantees"] if case == "lake_write" else [])
        measured = {v: run_case(case, v, data, repeat) for v in variants}
        for baseline in variants[1:]:
            ours, bare = measured["ours"], measured[baseline]
            label = bare_label + (" + the lake's hash and fsync" if baseline == "bare_same_guarantees" else "")
            rows.append(
                {
                    "stage": case,
                    "ours": ours_label,
                    "bare": label,
                    "ours_s": ours["median_s"],
                    "ours_spread": [ours["min_s"], ours["max_s"]],
                    "bare_s": bare["median_s"],
                    "bare_spread": [bare["min_s"], bare["max_s"]],
                    "ratio": ours["median_s"] / bare["median_s"],
                    "ours_rss_mib": ours["peak_rss_mib"],
                    "bare_rss_mib": bare["peak_rss_mib"],
                }
            )
            print_row(rows[-1])
    return rows


def print_row(row: dict) -> None:
    flag = "" if row["ratio"] <= TARGET_RATIO else "  (above 1.10x)"
    print(
        f"  {row['stage']:<11} {row['ours_s']:8.3f} s vs {row['bare_s']:8.3f} s  {row['ratio']:5.2f}x"
        f"  RSS {row['ours_rss_mib']:6.0f} / {row['bare_rss_mib']:6.0f} MiB  [{row['bare']}]{flag}",
        flush=True,
    )


def scaling(folder: Path, sizes: list[int]) -> dict:
    """Fraud validation and training at each size: time, peak RSS, and the exponent b of time ~ rows^b fitted
    over the sizes."""
    points = []
    for rows in sizes:
        data = fraud_days(folder / f"scale-{rows}", rows)
        point = {"rows": rows}
        for case in ("validation", "training"):
            # Up to 100k rows: a warm-up, then one measured run. Larger: one cold run (minutes; imports are noise).
            result = run_case(case, "ours", data, 1, warmup=rows <= 100_000)
            point[case] = {"seconds": result["median_s"], "peak_rss_mib": result["peak_rss_mib"]}
        points.append(point)
        print(
            f"  {rows:>9,} rows: validation {point['validation']['seconds']:7.1f} s "
            f"({point['validation']['peak_rss_mib']:,.0f} MiB), training {point['training']['seconds']:7.1f} s "
            f"({point['training']['peak_rss_mib']:,.0f} MiB)",
            flush=True,
        )
    exponents = {}
    for case in ("validation", "training"):
        x = np.log([p["rows"] for p in points])
        y = np.log([p[case]["seconds"] for p in points])
        exponents[case] = float(np.polyfit(x, y, 1)[0]) if len(points) > 1 else math.nan
    return {"points": points, "growth_exponent": exponents}


def incremental(articles: int) -> dict:
    result = child_json("refresh.py", "--articles", str(articles))
    for share in ("0%", "1%", "10%"):
        r = result[share]
        print(
            f"  {share:>3} changed: {r['seconds']:6.2f} s, {r['embedded']:>5} embedded "
            f"({r['share_of_full']:.1%} of a full rebuild of {result['chunks']:,} chunks: "
            f"{result['full']['seconds']:.1f} s); bare encode of the same chunks {r['bare_encode_seconds']:.2f} s",
            flush=True,
        )
    return result


def llm(folder: Path, steps: int, questions: int) -> dict:
    """Fine-tuning against a bare PEFT loop, and the guarded RAG path against bare generate (benchmarks/bench_llm.py),
    each variant in its own process on the same prepared world."""
    folder.mkdir(parents=True, exist_ok=True)
    data = ["--data", str(folder)]
    world = child_json("bench_llm.py", "prepare", *data, "--questions", str(questions))
    finetune = {v: child_json("bench_llm.py", "finetune", v, *data, "--steps", str(steps)) for v in ("ours", "bare")}
    ours, bare = finetune["ours"], finetune["bare"]
    print(
        f"  fine-tune, {steps} steps of {ours['tokens'] // steps} tokens: {ours['tokens_per_s']:.0f} vs "
        f"{bare['tokens_per_s']:.0f} tokens/s ({bare['tokens_per_s'] / ours['tokens_per_s']:.2f}x the time); "
        f"peak RSS {ours['peak_rss_mib']:,.0f} / {bare['peak_rss_mib']:,.0f} MiB",
        flush=True,
    )
    from bench_llm import summarise_answers

    answers = summarise_answers(*(child_json("bench_llm.py", "answer", v, *data) for v in ("ours", "bare")))
    a, b = answers["ours"], answers["bare"]
    print(
        f"  answers ({answers['generated']} of {answers['questions']} questions generated): p50 {a['p50_s']:.2f} "
        f"vs {b['p50_s']:.2f} s, p95 {a['p95_s']:.2f} vs {b['p95_s']:.2f} s, {a['tokens_per_s']:.1f} vs "
        f"{b['tokens_per_s']:.1f} tokens/s; peak RSS {a['peak_rss_mib']:,.0f} / {b['peak_rss_mib']:,.0f} MiB",
        flush=True,
    )
    return {"world": world, "finetune": finetune, "answers": answers}


def airflow_cost() -> dict:
    """ingest_daily under the scheduler, `dags test`, `tasks test` and called directly (airflow_cost.py)."""
    result = child_json("airflow_cost.py")
    calls, scheduled = result["direct"]["calls_s"], result["scheduler"]["tasks"]
    for task, call in calls.items():
        print(
            f"  {task:<15} direct {call:5.1f} s, tasks test {result['tasks_test_s'][task]:5.1f} s, "
            f"under the scheduler {scheduled[task]['duration_s']:5.1f} s "
            f"(+{scheduled[task]['queued_to_start_s']:.1f} s queued)",
            flush=True,
        )
    print(
        f"  the DAG: direct process {result['direct']['process_s']:.1f} s, dags test {result['dags_test_s']:.1f} s, "
        f"scheduled run {result['scheduler']['run_s']:.1f} s",
        flush=True,
    )
    return result


def airflow_idle(seconds: int = 60) -> dict:
    """`airflow standalone` as `make airflow` starts it, on a scratch home: RSS of all its processes after
    `seconds` idle, with Airflow's default parallelism (32) and with the Makefile's (the core count)."""
    import psutil

    results = {}
    for parallelism in (32, os.cpu_count() or 2):
        with tempfile.TemporaryDirectory() as scratch:
            from airflow_cost import environment

            env = environment(Path(scratch), _free_port()) | {"AIRFLOW__CORE__PARALLELISM": str(parallelism)}
            home = env["AIRFLOW_HOME"]
            binary = str(Path(sys.executable).parent / "airflow")
            subprocess.run([binary, "db", "migrate"], env=env, check=True, capture_output=True)
            process = subprocess.Popen(
                [binary, "standalone"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
            time.sleep(seconds)
            members = [p for p in psutil.process_iter(["pid"]) if _home_of(p) == home]
            rss = sum(_rss(p) for p in members) / 2**20
            os.killpg(process.pid, 15)
            process.wait(timeout=60)
            for p in members:
                with contextlib.suppress(psutil.Error):
                    p.kill()
        results[str(parallelism)] = {"processes": len(members), "rss_mib": rss}
        print(f"  parallelism {parallelism:>2}: {len(members)} processes, {rss:,.0f} MiB idle", flush=True)
    return results


def _home_of(process) -> str | None:
    try:
        return process.environ().get("AIRFLOW_HOME")
    except Exception:
        return None


def _rss(process) -> int:
    try:
        return process.memory_info().rss
    except Exception:
        return 0


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def view_pages(days: int) -> dict:
    result = child_json("bench_view.py", "--days", str(days))
    for page, figures in result["pages"].items():
        print(f"  {page:<36} first {figures['first_ms']:6.0f} ms, later {figures['median_ms']:6.0f} ms", flush=True)
    return result


def machine() -> dict:
    import psutil

    from ml_platform import provenance

    return provenance.machine() | {
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "libraries": provenance.library_versions((*provenance.LIBRARIES, *BENCH_LIBRARIES)),
    }


def sections(size: dict, name: str, scratch: Path) -> dict:
    """Each section's title and how to measure it (full-only sections are left out at the small size)."""
    rows, days = size["scaling"], 365 if name == "full" else 30
    found = {
        "overhead": (
            f"overhead over the same work done bare ({size['rows']:,} fraud rows a day, {size['repeat']} runs)",
            lambda: overhead(fraud_days(scratch / "overhead", size["rows"]), size["repeat"]),
        ),
        "scaling": ("scaling (fraud validation and training)", lambda: scaling(scratch, rows)),
        "incremental": (
            f"incremental index refresh ({size['articles']:,} articles)",
            lambda: incremental(size["articles"]),
        ),
        "llm": (
            f"LLM ({size['finetune_steps']} fine-tuning steps, {size['questions']} questions)",
            lambda: llm(scratch / "llm", size["finetune_steps"], size["questions"]),
        ),
        "view": ("ML Ops view with a year of daily records", lambda: view_pages(days)),
        "airflow_cost": ("Airflow's own cost per task (ingest_daily)", airflow_cost),
        "backfill": (
            f"a {size['backfill_days']}-day backfill on the embedded defaults (ingest and both trainings)",
            lambda: backfill(size["backfill_days"]),
        ),
        "airflow_idle": ("embedded Airflow at idle", lambda: airflow_idle(60)),
    }
    full_only = ("airflow_cost", "airflow_idle")  # standalone starts: minutes each
    return {k: v for k, v in found.items() if name == "full" or k not in full_only}


def backfill(days: int) -> dict:
    result = child_json("backfill.py", "--days", str(days))
    print(f"  {result['days_per_hour']:.1f} days per hour", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="full")
    parser.add_argument("--out", type=Path, default=REPO / ".local" / "bench")
    parser.add_argument("--docs", type=Path, default=None, help="write the Markdown page here too")
    parser.add_argument(
        "--sections",
        nargs="+",
        choices=SECTIONS + EXTRA_SECTIONS,
        default=list(SECTIONS),
        help="rerun these, keep the others",
    )
    parser.add_argument("--scaling-rows", type=int, nargs="+", help="the scaling section's sizes (default: the size's)")
    parser.add_argument("--backfill-days", type=int, help="days the backfill section covers (default: 14 at full size)")
    args = parser.parse_args()
    size = SIZES[args.size] | ({"scaling": args.scaling_rows} if args.scaling_rows else {})
    size["backfill_days"] = args.backfill_days or (14 if args.size == "full" else 2)
    started = time.perf_counter()
    kept = args.out / f"bench-{args.size}.json"
    report = json.loads(kept.read_text()) if set(args.sections) != set(SECTIONS) and kept.exists() else {}
    report |= {
        "size": args.size,
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "command": f"python benchmarks/run.py --size {args.size}",
    }
    failed = []
    with tempfile.TemporaryDirectory() as scratch:
        for name, (title, measure) in sections(size, args.size, Path(scratch)).items():
            if name not in args.sections:
                continue
            print(f"{title}:", flush=True)
            try:
                report[name] = measure()
            except Exception as error:  # one section's failure must not lose the others' figures
                print(f"  FAILED: {error}", flush=True)
                failed.append(name)
            write(report, args, started)
    if failed:
        raise SystemExit(f"sections failed: {', '.join(failed)} (the others are written)")


def write(report: dict, args: argparse.Namespace, started: float) -> None:
    """The JSON and the page, after every section: a later failure or Ctrl-C keeps what was measured."""
    from report_page import page

    earlier = report.get("elapsed_s")
    report["elapsed_s"] = earlier if isinstance(earlier, dict) else ({"everything": earlier} if earlier else {})
    report["elapsed_s"][" ".join(args.sections)] = time.perf_counter() - started
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"bench-{args.size}.json").write_text(json.dumps(report, indent=2))
    markdown = page(report)
    (args.out / f"bench-{args.size}.md").write_text(markdown)
    if args.docs:
        args.docs.write_text(markdown)
    print(f"  written to {args.out}/bench-{args.size}.json and .md ({(time.perf_counter() - started) / 60:.1f} min)")


if __name__ == "__main__":
    main()
