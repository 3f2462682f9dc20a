"""`ml-platform` command line: demo data, imports of real files, single ingests and the run summary."""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import date, timedelta

from ml_platform.dates import as_date


def _days(end: date, count: int) -> list[date]:
    return [end - timedelta(days=offset) for offset in range(count - 1, -1, -1)]


def _ingest(group: str, day: date, source: str | None, demo=None, replace_other_source: bool = False) -> dict:
    """One group's ingest for one date, as a local (not Airflow) run."""
    from ml_platform.config.pipelines import load_ingest_config
    from ml_platform.pipelines.ingest import ingest_step
    from ml_platform.run_context import RunContext
    from ml_platform.settings import Settings

    configured = load_ingest_config().groups[group].for_run({"source": source})
    ctx = RunContext(day, "local", params={"replace_other_source": replace_other_source})
    return ingest_step(configured, Settings.from_env(), ctx, demo)


def cmd_demo_data(args: argparse.Namespace) -> int:
    from ml_platform.config.pipelines import load_ingest_config
    from ml_platform.datasets.scenario import load_demo_config
    from ml_platform.settings import Settings

    settings = Settings.from_env()
    demo = load_demo_config()
    days = _days(as_date(args.end), args.days or demo.days)
    groups = args.group or list(load_ingest_config().groups)
    print(f"Generating demo data for {days[0]} .. {days[-1]} ({len(days)} days) into {settings.lake_uri}")
    for index, day in enumerate(days, 1):
        landed = {g: _ingest(g, day, "demo", demo, args.replace_other_source) for g in groups}
        rows = {g: sum(p["rows"] for p in record["partitions"]) for g, record in landed.items()}
        print(
            f"  [{index:>2}/{len(days)}] {day}: " + ", ".join(f"{g} {n:,} rows" for g, n in rows.items()),
            flush=True,
        )
    return 0


def cmd_ingest(args: argparse.Namespace) -> int:
    record = _ingest(args.group, as_date(args.date), args.source, replace_other_source=args.replace_other_source)
    for partition in record["partitions"]:
        print(f"{partition['dataset']}/dt={partition['dt']}: {partition['rows']} rows -> {partition['uri']}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from ml_platform.datasets.importer import import_file
    from ml_platform.lake import Lake
    from ml_platform.settings import Settings

    settings = Settings.from_env()
    try:
        result = import_file(
            args.file,
            args.dataset,
            args.start,
            args.end,
            Lake.at(settings.lake_uri),
            date_column=args.date_column,
            seed=settings.seed,
            replace_other_source=args.replace_other_source,
        )
    except (ValueError, FileNotFoundError) as error:
        print(f"import failed: {error}", file=sys.stderr)
        return 2
    print("\n".join(result.lines()))
    return 0


def cmd_summary(args: argparse.Namespace) -> int:
    from ml_platform.settings import Settings
    from ml_platform.summary import build_summary

    markdown, _ = build_summary(Settings.from_env().reports_uri, args.date)
    print(markdown)
    return 0


def cmd_monitor_drift(args: argparse.Namespace) -> int:
    """Drift of each tabular champion for past days, recorded like a backfill of model_monitoring."""
    from ml_platform import names
    from ml_platform.config.tabular import load_model_config, model_names
    from ml_platform.lake import Lake
    from ml_platform.pipelines.monitoring import tabular_monitor_step
    from ml_platform.run_context import RunContext
    from ml_platform.settings import Settings

    settings = Settings.from_env()
    lake = Lake.at(settings.lake_uri)
    for name in model_names():
        config = load_model_config(name)
        for day in lake.dates(config.dataset, args.start, args.end):
            record = tabular_monitor_step(config, settings, RunContext(day, "backfill", "cli", names.MONITORING))
            share = record.get("share_drifted")
            print(f"  {name} {day}: {record['verdict']}" + (f" ({share:.0%} of features drifted)" if share else ""))
    return 0


def cmd_drift_timeline(args: argparse.Namespace) -> int:
    from ml_platform.config.tabular import model_names
    from ml_platform.datasets.scenario import load_demo_config
    from ml_platform.pipelines.monitoring import write_timeline
    from ml_platform.settings import Settings
    from ml_platform.summary import markdown_table

    onset = as_date(args.onset) if args.onset else load_demo_config(latest=as_date(args.end)).scenario.drift_onset
    out = write_timeline(Settings.from_env(), model_names(), as_date(args.start), as_date(args.end), onset)
    if out["table"].empty:
        print(f"no drift records between {args.start} and {args.end}: run model_monitoring for those dates first")
        return 1
    print(markdown_table(out["table"].assign(day=out["table"]["day"].dt.date).to_dict("records")))
    for model, alarm in out["alarms"].items():
        print(f"{model}: {alarm}")
    print(f"plot: {out['plot']}\ntable: {out['csv']}")
    return 0


def cmd_reproduce(args: argparse.Namespace) -> int:
    """Rebuild a registered version from its record into a scratch folder and compare; exit 1 if it differs."""
    from pathlib import Path

    from ml_platform.pipelines.reproduce import reproduce
    from ml_platform.settings import Settings

    settings = Settings.from_env()
    scratch = Path(args.scratch or settings.project_root / ".local" / "reproduce" / f"{args.model}-v{args.version}")
    outcome = reproduce(settings, args.model, str(args.version), scratch)
    print("\n".join(outcome.lines()))
    return 0 if outcome.reproduced else 1


def _labelled_report(args: argparse.Namespace, report: dict, text: str, met: bool) -> int:
    """Print a detector's report on labelled cases, write it as JSON when asked; exit 1 when a target is missed."""
    import json
    from pathlib import Path

    print(text)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(report, indent=2, ensure_ascii=False))
    return 0 if met else 1


def cmd_guardrails_eval(args: argparse.Namespace) -> int:
    """Score the guardrails on a labelled split; exit 1 when a target is missed (PII and injection recall at
    least 0.9, false positives on harmless text at most 5 %)."""
    from ml_platform.evaluation.guardrail_cases import meets_targets, render, score

    report = score(args.split)
    return _labelled_report(args, report, render(report, not args.quiet), meets_targets(report))


def cmd_hallucination_eval(args: argparse.Namespace) -> int:
    """Score the hallucination detector on a labelled split; exit 1 when precision or recall is under 0.9."""
    from ml_platform.config.assistant import load_assistant_config
    from ml_platform.evaluation.hallucination import meets_targets, render, score_split

    report = score_split(args.split, load_assistant_config().evaluation.detector)
    return _labelled_report(args, report, render(report, not args.quiet), meets_targets(report))


def cmd_calibrate_abstention(args: argparse.Namespace) -> int:
    """Set the retrieval-score threshold of the guarded answer path on one demo world, judge it on another."""
    import json
    from datetime import date

    from ml_platform.config.assistant import load_assistant_config
    from ml_platform.pipelines.retrieval import calibrate_abstention

    report = calibrate_abstention(
        load_assistant_config(), date.fromisoformat(args.day), args.tune_seed, args.test_seed, args.max_false_abstention
    )
    print(json.dumps(report, indent=2))
    print(f"set guard.min_retrieval_score: {report['threshold']} in configs/llm/support_assistant.yaml")
    return 0


def nightly_dags() -> list[str]:
    """The DAGs of a night in the order they run: ingest, monitoring, every model's training, the assistant."""
    from ml_platform import names
    from ml_platform.config.tabular import load_model_config, model_names

    training = [load_model_config(name).pipeline for name in model_names()]
    return [names.INGEST, names.MONITORING, *training, names.KB_REFRESH, names.LLM_FINETUNE]


def cmd_nightly_dags(_: argparse.Namespace) -> int:
    print("\n".join(nightly_dags()))
    return 0


def cmd_env_table(_: argparse.Namespace) -> int:
    from ml_platform.settings import env_table_markdown

    print(env_table_markdown())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ml-platform", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    today = date.today().isoformat()

    demo = sub.add_parser("demo-data", help="generate demo partitions for the days up to --end")
    demo.add_argument("--end", default=today, help="last date (default: today)")
    demo.add_argument("--days", type=int, default=None, help="how many days (default: demo.yaml)")
    demo.add_argument("--group", action="append", help="only these groups (churn, fraud, support)")
    demo.add_argument(
        "--replace-other-source",
        action="store_true",
        help="replace partitions that came from another source (their rows are kept under the lake's _versions/)",
    )
    demo.set_defaults(func=cmd_demo_data)

    ingest = sub.add_parser("ingest", help="land one group's partitions for one date")
    ingest.add_argument("group")
    ingest.add_argument("--date", default=today)
    ingest.add_argument("--source", choices=("demo", "landing"), default=None)
    ingest.add_argument(
        "--replace-other-source",
        action="store_true",
        help="replace partitions that came from another source (their rows are kept under the lake's _versions/)",
    )
    ingest.set_defaults(func=cmd_ingest)

    imp = sub.add_parser("import-data", help="import a CSV/Parquet file into lake partitions")
    imp.add_argument("--dataset", required=True, help="schema to coerce to (churn, fraud)")
    imp.add_argument("--file", required=True)
    imp.add_argument("--start", required=True, help="first date (YYYY-MM-DD)")
    imp.add_argument("--end", required=True, help="last date (YYYY-MM-DD)")
    imp.add_argument("--date-column", default=None, help="split by this column instead of dealing rows out")
    imp.add_argument(
        "--replace-other-source",
        action="store_true",
        help="replace partitions that came from another source (their rows are kept under the lake's _versions/)",
    )
    imp.set_defaults(func=cmd_import)

    summary = sub.add_parser("summary", help="print and store the run summary of a date")
    summary.add_argument("--date", default=today)
    summary.set_defaults(func=cmd_summary)

    monitor = sub.add_parser("monitor-drift", help="drift of each champion for past days (recorded as backfill)")
    monitor.add_argument("--start", required=True)
    monitor.add_argument("--end", default=today)
    monitor.set_defaults(func=cmd_monitor_drift)

    timeline = sub.add_parser("drift-timeline", help="per-day drift table and PNG over a date range")
    timeline.add_argument("--start", required=True)
    timeline.add_argument("--end", default=today)
    timeline.add_argument("--onset", default=None, help="known drift onset to mark (default: the demo scenario's)")
    timeline.set_defaults(func=cmd_drift_timeline)

    rebuild = sub.add_parser("reproduce", help="rebuild a registered version from its record and compare")
    rebuild.add_argument("--model", required=True, help="churn, fraud or support_assistant")
    rebuild.add_argument("--version", required=True, help="the registered version number")
    rebuild.add_argument("--scratch", default=None, help="where the rebuilt model goes (default: .local/reproduce/)")
    rebuild.set_defaults(func=cmd_reproduce)

    guard = sub.add_parser("guardrails-eval", help="guardrail recall and false positives on labelled cases")
    guard.add_argument("--split", choices=["dev", "test"], default="test", help="test: never tuned on (default)")
    guard.add_argument("--json", default=None, help="also write the full report (with every miss) here")
    guard.add_argument("--quiet", action="store_true", help="scores only, without the list of errors")
    guard.set_defaults(func=cmd_guardrails_eval)

    halluc = sub.add_parser(
        "hallucination-eval", help="hallucination detector precision and recall on labelled answers"
    )
    halluc.add_argument("--split", choices=["dev", "test"], default="test", help="test: never tuned on (default)")
    halluc.add_argument("--json", default=None, help="also write the full report (with every error) here")
    halluc.add_argument("--quiet", action="store_true", help="scores only, without the list of errors")
    halluc.set_defaults(func=cmd_hallucination_eval)

    calib = sub.add_parser("calibrate-abstention", help="set the retrieval-score threshold under which to abstain")
    calib.add_argument("--day", default="2026-03-10", help="the demo day whose knowledge base is indexed")
    calib.add_argument("--tune-seed", type=int, default=7, help="demo world the threshold is set on")
    calib.add_argument("--test-seed", type=int, default=11, help="demo world it is judged on")
    calib.add_argument("--max-false-abstention", type=float, default=0.05, help="answerable questions turned away")
    calib.set_defaults(func=cmd_calibrate_abstention)

    nightly = sub.add_parser("nightly-dags", help="the DAG ids of a night, in the order they run")
    nightly.set_defaults(func=cmd_nightly_dags)

    env = sub.add_parser("env-table", help="print the environment-variable table of the README")
    env.set_defaults(func=cmd_env_table)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    from ml_platform.errors import PlatformError

    try:
        return args.func(args)
    except PlatformError as error:  # a refused input or a failed gate: its message is the whole story
        print(f"ml-platform {args.command}: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
