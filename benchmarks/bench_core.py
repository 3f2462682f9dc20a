"""Benchmarks of the platform's hot paths against the bare libraries, in the same run.

Prints wall time and peak memory per operation and the ratio platform / bare library, so overheads are
visible without turning timings into flaky tests.

    .venv/bin/python benchmarks/bench_core.py [--rows 200000]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ml_platform.datasets.fraud import generate_fraud
from ml_platform.datasets.scenario import Scenario
from ml_platform.lake import Lake

DAY = date(2026, 11, 20)


def measure(fn: Callable[[], object], repeat: int = 3) -> tuple[float, float]:
    """Median seconds over `repeat` runs, and peak Python-allocated MiB of one run."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return statistics.median(times), peak


def row(name: str, ours: tuple[float, float], bare: tuple[float, float]) -> str:
    return (
        f"| {name:<34} | {ours[0] * 1000:9.1f} | {bare[0] * 1000:9.1f} | {ours[0] / bare[0]:6.2f}x "
        f"| {ours[1]:8.1f} | {bare[1]:8.1f} |"
    )


def bench_lake(frame: pd.DataFrame, root: Path) -> list[str]:
    lake = Lake.at(str(root / "lake"))
    bare_path = root / "bare.parquet"

    def bare_write() -> None:
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), bare_path, compression="zstd")

    def lake_write() -> None:
        lake.write("fraud", DAY, frame, {"source": "bench"})

    lines = [row("lake.write vs pq.write_table", measure(lake_write), measure(bare_write))]
    lines.append(
        row(
            "lake.read vs pq.read_table",
            measure(lambda: lake.read("fraud", DAY)),
            measure(lambda: pq.read_table(bare_path).to_pandas()),
        )
    )
    for offset in range(1, 7):
        lake.write("fraud", DAY - timedelta(days=offset), frame)
    bare_paths = []
    for offset in range(7):
        path = root / f"bare-{offset}.parquet"
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)
        bare_paths.append(path)
    lines.append(
        row(
            "lake.read_window(7 days) vs concat",
            measure(lambda: lake.read_window("fraud", DAY - timedelta(days=6), DAY)),
            measure(lambda: pd.concat([pq.read_table(p).to_pandas() for p in bare_paths], ignore_index=True)),
        )
    )
    return lines


def bench_training(frame: pd.DataFrame) -> list[str]:
    import xgboost as xgb

    from ml_platform.config.datasets import load_schema
    from ml_platform.config.tabular import load_model_config
    from ml_platform.tabular.features import encode
    from ml_platform.tabular.training import TrainingData, train_and_evaluate

    config = load_model_config("fraud").for_run({"hyperparameters": {"n_estimators": 200}})
    # No early stop: both fit the same 200 trees.
    config = config.model_copy(update={"model": config.model.model_copy(update={"early_stopping_rounds": 10_000})})
    schema = load_schema("fraud")
    third = len(frame) // 3
    data = TrainingData(frame.iloc[:third], frame.iloc[third : 2 * third], frame.iloc[2 * third :], [DAY], DAY, DAY)
    x = encode(data.train, schema, config)
    y = schema.label_binary(data.train)

    def bare() -> None:
        model = xgb.XGBClassifier(**config.model.hyperparameters, tree_method="hist", n_jobs=2, random_state=7)
        model.fit(x, y)
        model.predict_proba(encode(data.test, schema, config))

    return [
        row(
            "train_and_evaluate vs XGBClassifier.fit",
            measure(lambda: train_and_evaluate(data, config), 1),
            measure(bare, 1),
        )
    ]


def bench_validation(frame: pd.DataFrame) -> list[str]:
    from ml_platform.config.datasets import load_schema
    from ml_platform.validation import validate_partition

    schema = load_schema("fraud")
    validate_partition(frame, schema, DAY)  # first call pays GX's import

    def bare() -> None:
        # The checks a hand-written pandas validator would make, for scale.
        assert frame["transaction_id"].is_unique
        for spec in schema.columns:
            column = frame[spec.name]
            column.isna().mean()
            if spec.values:
                column.isin(spec.values).all()
            if spec.numeric and spec.min is not None:
                column.between(spec.min, spec.max).all()

    return [
        row(
            "validate_partition (GX) vs pandas",
            measure(lambda: validate_partition(frame, schema, DAY), 1),
            measure(bare, 3),
        )
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    frame, _ = generate_fraud(DAY, 1, Scenario(), rows=args.rows, customers=max(100, args.rows // 5))
    print(
        f"fraud partition: {len(frame):,} rows x {frame.shape[1]} columns, "
        f"{frame.memory_usage(deep=True).sum() / 2**20:.1f} MiB in pandas\n"
    )
    print("| operation                          | ours (ms) | bare (ms) |  ratio | ours MiB | bare MiB |")
    print("|------------------------------------|-----------|-----------|--------|----------|----------|")
    with tempfile.TemporaryDirectory() as tmp:
        for line in bench_lake(frame, Path(tmp)):
            print(line, flush=True)
    for line in bench_validation(frame) + bench_training(frame):
        print(line, flush=True)
    print("\nPeak MiB is Python-level allocation (tracemalloc); XGBoost's native memory is not included.")


if __name__ == "__main__":
    main()
