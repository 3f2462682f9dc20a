"""One benchmark case in this process: the platform's call ("ours") or the same work done with the bare
library ("bare", and for the lake "bare_same_guarantees": the same hashing and fsync), on the same data.

Run by benchmarks/run.py, one process per (case, variant), so each peak RSS belongs to that case alone:

    python benchmarks/cases.py CASE VARIANT --data FOLDER --repeat N

Prints one JSON line: seconds of every repetition, peak RSS (getrusage, native memory included) and the RSS
after loading the inputs (what the case itself added is the difference).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from peak import peak_rss_mib

DAY = date(2026, 11, 20)
CODEC = "zstd"  # the lake's codec: a baseline with pyarrow's default (snappy) would not be the same work
Case = Callable[[], object]


def _frames(data: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Three consecutive fraud days written by run.py: train, validation and evaluation."""
    return tuple(pd.read_parquet(data / f"fraud-{i}.parquet") for i in range(3))


def _day(data: Path) -> pd.DataFrame:
    """The evaluation day alone: cases that need one partition load one (their peak RSS is theirs)."""
    return pd.read_parquet(data / "fraud-2.parquet")


# -- lake --------------------------------------------------------------------------------------------------
def lake_write(variant: str, data: Path) -> Case:
    from ml_platform.lake import Lake, content_hash

    frame = _day(data)
    root = Path(tempfile.mkdtemp(dir=data))
    days = iter(DAY - timedelta(days=i) for i in range(10_000))  # a new date each time: a rewrite is a no-op
    if variant == "ours":
        lake = Lake.at(str(root / "lake"))
        return lambda: lake.write("fraud", next(days), frame, {"source": "bench"})
    if variant == "bare":
        return lambda: pq.write_table(
            pa.Table.from_pandas(frame, preserve_index=False), root / f"{next(days)}.parquet", compression=CODEC
        )

    def same_guarantees() -> None:  # the lake's hash, an in-memory file, then temp file + fsync + rename
        digest = content_hash(frame)
        buffer = io.BytesIO()
        table = pa.Table.from_pandas(frame, preserve_index=False)
        pq.write_table(table.replace_schema_metadata({b"content_hash": digest.encode()}), buffer, compression=CODEC)
        target, temporary = root / f"{next(days)}.parquet", root / ".tmp"
        with temporary.open("wb") as handle:
            handle.write(buffer.getvalue())
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)

    return same_guarantees


def lake_read(variant: str, data: Path) -> Case:
    from ml_platform.lake import Lake

    frame = _day(data)
    root = Path(tempfile.mkdtemp(dir=data))
    if variant == "ours":
        lake = Lake.at(str(root / "lake"))
        lake.write("fraud", DAY, frame)
        return lambda: lake.read("fraud", DAY)
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), root / "bare.parquet", compression=CODEC)
    return lambda: pq.read_table(root / "bare.parquet").to_pandas()


# -- validation -----------------------------------------------------------------------------------------------
def validation(variant: str, data: Path) -> Case:
    from ml_platform import validation as ours
    from ml_platform.config.datasets import load_schema

    frame, schema = _day(data), load_schema("fraud")
    if variant == "ours":
        return lambda: ours.validate_partition(frame, schema, DAY)
    import great_expectations as gx

    def bare() -> None:  # the same suite, run by GX directly: no failure summary, no HTML page
        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = {"globally": False, "metric_calculations": False}
        batch = context.data_sources.add_pandas("fraud").add_dataframe_asset("fraud")
        batch = batch.add_batch_definition_whole_dataframe("partition")
        suite = context.suites.add(ours.build_suite(schema, DAY))
        gx.ValidationDefinition(name="bare", data=batch, suite=suite).run(
            batch_parameters={"dataframe": ours._with_label_share(frame, schema)}, result_format="SUMMARY"
        )

    return bare


# -- training ------------------------------------------------------------------------------------------------------
def training(variant: str, data: Path) -> Case:
    from ml_platform.config.datasets import load_schema
    from ml_platform.config.tabular import load_model_config
    from ml_platform.tabular.features import encode
    from ml_platform.tabular.training import TrainingData, classifier, train_and_evaluate

    train, valid, test = _frames(data)
    config, schema = load_model_config("fraud"), load_schema("fraud")
    if variant == "ours":
        training_data = TrainingData(train, valid, test, [DAY - timedelta(days=2)], DAY - timedelta(days=1), DAY)
        return lambda: train_and_evaluate(training_data, config, schema)
    from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score

    x_train, x_valid, x_test = (encode(f, schema, config) for f in (train, valid, test))
    y_train, y_valid, y_test = (schema.label_binary(f).to_numpy() for f in (train, valid, test))

    def bare() -> None:  # same model, evaluation set and early stopping; predictions; a threshold; metrics
        model = classifier(config, y_train)
        model.fit(x_train, y_train, eval_set=[(x_valid, y_valid)], verbose=False)
        p_valid, p_test = model.predict_proba(x_valid)[:, 1], model.predict_proba(x_test)[:, 1]
        precision, recall, thresholds = precision_recall_curve(y_valid, p_valid)
        f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-12)
        threshold = thresholds[int(np.argmax(f1[:-1]))]
        roc_auc_score(y_test, p_test), average_precision_score(y_test, p_test), (p_test >= threshold).mean()

    return bare


# -- drift ----------------------------------------------------------------------------------------------------------
def drift(variant: str, data: Path) -> Case:
    from ml_platform.config.datasets import load_schema
    from ml_platform.config.tabular import load_model_config
    from ml_platform.monitoring import drift as ours
    from ml_platform.tabular.features import raw_feature_columns

    reference, _, current = _frames(data)
    reference, current = (ours._sample(f, ours.MAX_TABULAR_ROWS) for f in (reference, current))
    schema, config = load_schema("fraud"), load_model_config("fraud")
    features = raw_feature_columns(schema, config)
    if variant == "ours":
        return lambda: ours.tabular_drift(
            "fraud", DAY, reference, current, schema, features, None, None, config.monitoring.drift_share_threshold
        )
    from evidently import DataDefinition, Dataset, Report
    from evidently.metrics import ValueDrift
    from evidently.presets import DataDriftPreset

    numerical, categorical = ours._column_types(schema, features)
    label = schema.label_column
    definition = DataDefinition(numerical_columns=numerical, categorical_columns=[*categorical, label])
    frames = {name: frame[[*features, label]] for name, frame in (("ref", reference), ("cur", current))}

    def bare() -> None:  # the same preset and label test on the same frames, with the HTML page ours keeps
        metrics = [DataDriftPreset(columns=features, drift_share=config.monitoring.drift_share_threshold)]
        report = Report([*metrics, ValueDrift(column=label)], include_tests=True)
        snapshot = report.run(
            current_data=Dataset.from_pandas(frames["cur"], data_definition=definition),
            reference_data=Dataset.from_pandas(frames["ref"], data_definition=definition),
        )
        snapshot.dict(), snapshot.get_html_str(as_iframe=False)

    return bare


CASES = {
    "lake_write": lake_write,
    "lake_read": lake_read,
    "validation": validation,
    "training": training,
    "drift": drift,
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("case", choices=sorted(CASES))
    parser.add_argument("variant", choices=["ours", "bare", "bare_same_guarantees"])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--warmup", action="store_true", help="warm up before a single run too")
    args = parser.parse_args()
    run = CASES[args.case](args.variant, args.data)
    # A warm-up run (imports, first-call caches; not counted), except for a single run, which goes in cold
    # (a long case: minutes, imports are noise) unless --warmup asks for one.
    if args.repeat > 1 or args.warmup:
        run()
    after_setup = peak_rss_mib()
    seconds = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        run()
        seconds.append(time.perf_counter() - started)
    json.dump({"seconds": seconds, "peak_rss_mib": peak_rss_mib(), "rss_after_warmup_mib": after_setup}, sys.stdout)
    print()


if __name__ == "__main__":
    main()
