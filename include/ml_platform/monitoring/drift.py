"""Drift of a model's inputs, scores and labels (Evidently 0.7), and of text embeddings.

Tabular drift runs one Evidently report per model and day: `DataDriftPreset` over the model's features
(one `ValueDrift` per column plus `DriftedColumnsCount`), and `ValueDrift` on the champion's scores and on the
label. Evidently picks each column's test from its type and the reference size (K-S / chi-square / z-test
p-values up to 1000 reference rows; Wasserstein distance (normed) / Jensen-Shannon distance above), and its
own per-column test verdicts decide which features drifted, so the numbers here match its HTML report.

Embedding drift uses Evidently 0.7's `EmbeddingsDrift` metric (new API; it wraps the legacy
`embedding_drift_methods`) with the MMD method: see `embedding_drift` for why not the default domain classifier.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from ml_platform.config.datasets import DatasetSchema

# Above this many rows a side is sampled (deterministically) before Evidently sees it: the distance tests it
# picks for large data are stable long before 20k rows, and the report's cost and HTML size grow with rows.
MAX_TABULAR_ROWS = 20_000
# Name of the champion-score column inside the report; chosen not to collide with any schema column.
SCORE_COLUMN = "champion_score"
SAMPLE_SEED = 0

# MMD builds an (m+n)² kernel matrix and the report's t-SNE picture is quadratic too: cap each side.
MAX_EMBEDDING_ROWS = 1_000


@dataclass
class FeatureDrift:
    column: str
    test: str  # the statistical test Evidently chose, e.g. "K-S p_value", "Jensen-Shannon distance"
    score: float
    threshold: float
    drifted: bool


@dataclass
class DriftResult:
    model: str
    day: str
    reference_days: list[str]
    rows_reference: int
    rows_current: int
    features: list[FeatureDrift]
    share_drifted: float
    drifted_features: list[str]
    prediction_drift: FeatureDrift | None  # drift of the champion's scores, current vs reference
    target_drift: FeatureDrift | None  # when the label is present in current (and reference)
    live_quality: dict[str, float] | None  # roc_auc, pr_auc, positive_rate of the scores on current labels
    verdict: str  # "drifted" | "stable"
    reasons: list[str]
    html: str  # Evidently's own HTML report (complete page)
    # The share threshold the verdict used; kept so a timeline of `as_dict()` records can draw it.
    share_threshold: float | None = None

    @property
    def drifted(self) -> bool:
        return self.verdict == "drifted"

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe (NaN/inf become None), without the HTML; `drifted` added for the promotion policy's gate."""
        out = asdict(self)
        out.pop("html")
        out["drifted"] = self.drifted
        return _json_safe(out)


@dataclass
class EmbeddingDrift:
    method: str
    score: float
    threshold: float
    drifted: bool
    html: str | None


# -- helpers ---------------------------------------------------------------------------------------------
def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, date):
        return value.isoformat()
    return value


def _sample(frame: pd.DataFrame, limit: int) -> pd.DataFrame:
    # A fixed random_state keeps a re-run of the same day bit-identical (the DAG may retry a task).
    return frame if len(frame) <= limit else frame.sample(n=limit, random_state=SAMPLE_SEED)


def _column_types(schema: DatasetSchema, features: Sequence[str]) -> tuple[list[str], list[str]]:
    """Numerical/categorical split from the schema, never inferred: a 0/1 int stays numeric, a coded category
    stays categorical, whatever today's values happen to look like."""
    numerical, categorical = [], []
    for name in features:
        spec = schema.column(name)
        if spec.numeric:
            numerical.append(name)
        elif spec.dtype == "category":
            categorical.append(name)
        else:
            raise ValueError(
                f"{schema.name}.{name} has dtype {spec.dtype!r}: drift is checked on numeric and category "
                "features only (ids, free text and timestamps are not model features)"
            )
    return numerical, categorical


def _frame_for_report(
    frame: pd.DataFrame,
    schema: DatasetSchema,
    features: Sequence[str],
    scores: np.ndarray | None,
    with_label: bool,
) -> pd.DataFrame:
    """Only the columns the report needs, in the types the DataDefinition declares (features keep their order)."""
    out = pd.DataFrame(index=frame.index)
    for name in features:
        if schema.column(name).numeric:
            out[name] = pd.to_numeric(frame[name], errors="coerce").astype("float64")
        else:
            # Strings, so that a numeric vocabulary (0/1) is compared as categories; missing stays missing.
            out[name] = frame[name].map(lambda v: None if pd.isna(v) else str(v)).astype("object")
    if scores is not None:
        scores = np.asarray(scores, dtype="float64").ravel()
        if len(scores) != len(frame):
            raise ValueError(f"{len(scores)} scores for {len(frame)} rows")
        out[SCORE_COLUMN] = scores
    if with_label:
        out[schema.label_column] = schema.label_binary(frame).astype(str).to_numpy()
    return out.reset_index(drop=True)


def _value_drifts(snapshot_dict: dict[str, Any]) -> dict[str, FeatureDrift]:
    """Per column: the test Evidently resolved, its score and threshold, and its own pass/fail verdict.

    A drift test compares differently by kind (p-value below, distance above the threshold): reading the test
    status rather than re-deriving the comparison keeps the verdict exactly Evidently's.
    """
    status = {
        t["metric_config"]["metric_id"]: t["status"]
        for t in snapshot_dict["tests"]
        if t.get("id") == "drift" and "metric_config" in t
    }
    out: dict[str, FeatureDrift] = {}
    for metric in snapshot_dict["metrics"]:
        config = metric.get("config", {})
        if config.get("type") != "evidently:metric_v2:ValueDrift":
            continue
        column = config["column"]
        out[column] = FeatureDrift(
            column=column,
            test=str(config.get("method")),
            score=float(metric["value"]),
            threshold=float(config.get("threshold")),
            drifted=status.get(metric["id"]) == "FAIL",
        )
    return out


def _live_quality(labels: np.ndarray, scores: np.ndarray) -> dict[str, float]:
    # sklearn rather than Evidently's classification metrics: these need no decision threshold and no extra
    # columns in the drift report; AUCs are undefined (left out) when the day has a single class.
    from sklearn.metrics import average_precision_score, roc_auc_score

    quality = {"positive_rate": float(labels.mean()) if len(labels) else float("nan")}
    if len(np.unique(labels)) == 2:
        quality["roc_auc"] = float(roc_auc_score(labels, scores))
        quality["pr_auc"] = float(average_precision_score(labels, scores))
    return quality


def _fmt(drift: FeatureDrift) -> str:
    relation = "p_value" in drift.test
    comparison = ("<" if drift.drifted else ">=") if relation else (">=" if drift.drifted else "<")
    return f"{drift.test} {drift.score:.4g} {comparison} {drift.threshold:.4g}"


# -- tabular ---------------------------------------------------------------------------------------------
def _check_features(model: str, day: date, features: list[str], reference: pd.DataFrame, current: pd.DataFrame):
    if not features:
        raise ValueError("no features to check for drift")
    for side, frame in (("reference", reference), ("current", current)):
        missing = [name for name in features if name not in frame.columns]
        if missing:
            raise ValueError(f"{model} {day}: {side} data lacks feature column(s) {missing}")


def _run_report(
    model: str,
    day: date,
    ref: pd.DataFrame,
    cur: pd.DataFrame,
    schema: DatasetSchema,
    features: list[str],
    share_threshold: float,
    prediction_threshold: float | None,
) -> Any:
    """Evidently's snapshot: DataDriftPreset over the features, ValueDrift on the scores and the label when
    the frames carry them (with per-column tests, which `_value_drifts` reads)."""
    # Evidently is imported here, not at module level: it takes seconds, and DAG files import this package.
    from evidently import DataDefinition, Dataset, Report
    from evidently.metrics import ValueDrift
    from evidently.presets import DataDriftPreset

    numerical, categorical = _column_types(schema, features)
    with_scores, with_label = SCORE_COLUMN in ref.columns, schema.label_column in ref.columns
    definition = DataDefinition(
        numerical_columns=[*numerical, *([SCORE_COLUMN] if with_scores else [])],
        categorical_columns=[*categorical, *([schema.label_column] if with_label else [])],
    )
    metrics: list[Any] = [DataDriftPreset(columns=features, drift_share=share_threshold)]
    if with_scores:
        metrics.append(ValueDrift(column=SCORE_COLUMN, threshold=prediction_threshold))
    if with_label:
        metrics.append(ValueDrift(column=schema.label_column))
    report = Report(metrics, include_tests=True, metadata={"model": model, "day": day.isoformat()})
    return report.run(
        current_data=Dataset.from_pandas(cur, data_definition=definition),
        reference_data=Dataset.from_pandas(ref, data_definition=definition),
    )


def _reasons(
    drifted_features: list[str],
    n_features: int,
    share_threshold: float,
    prediction: FeatureDrift | None,
    target: FeatureDrift | None,
    live_quality: dict[str, float] | None,
    rows: int,
) -> list[str]:
    share = len(drifted_features) / n_features
    share_line = f"{len(drifted_features)}/{n_features} features drifted (share {share:.2f} "
    share_line += f"{'>=' if share >= share_threshold else '<'} threshold {share_threshold:.2f})"
    if drifted_features:
        share_line += ": " + ", ".join(drifted_features)
    reasons = [share_line]
    if prediction is not None:
        reasons.append(f"prediction drift {'detected' if prediction.drifted else 'not detected'}: {_fmt(prediction)}")
    else:
        reasons.append("prediction drift not checked: no champion scores")
    if target is not None:
        seen = "detected" if target.drifted else "not detected"
        reasons.append(f"target drift {seen} (informational): {_fmt(target)}")
    if live_quality is not None and "roc_auc" in live_quality:
        reasons.append(f"live ROC-AUC {live_quality['roc_auc']:.3f} on {rows} labelled rows (informational)")
    return reasons


def tabular_drift(
    model: str,
    day: date,
    reference: pd.DataFrame,
    current: pd.DataFrame,
    schema: DatasetSchema,
    features: list[str],
    reference_scores: np.ndarray | None,
    current_scores: np.ndarray | None,
    share_threshold: float,
    prediction_threshold: float | None = None,
    reference_days: Sequence[str] = (),
) -> DriftResult:
    """Compare `current` with `reference` on `features`, the champion's scores and the label.

    Verdict "drifted" when the share of drifted features reaches `share_threshold` or the scores drifted.
    Target drift and live quality are reported but do not set the verdict: labels usually arrive late, and a
    label shift alone is the quality gate's business, not the input monitor's.
    `prediction_threshold` overrides the score test's threshold (the test itself stays Evidently's choice).
    """
    features = list(features)
    _check_features(model, day, features, reference, current)
    with_scores = reference_scores is not None and current_scores is not None
    label = schema.label_column
    with_label = label in current.columns and label in reference.columns
    ref = _frame_for_report(reference, schema, features, reference_scores if with_scores else None, with_label)
    cur = _frame_for_report(current, schema, features, current_scores if with_scores else None, with_label)
    ref, cur = _sample(ref, MAX_TABULAR_ROWS), _sample(cur, MAX_TABULAR_ROWS)
    snapshot = _run_report(model, day, ref, cur, schema, features, share_threshold, prediction_threshold)
    drifts = _value_drifts(snapshot.dict())

    feature_drifts = [drifts[name] for name in features]
    drifted_features = [f.column for f in feature_drifts if f.drifted]
    share = len(drifted_features) / len(features)
    prediction = drifts.get(SCORE_COLUMN) if with_scores else None
    if prediction is not None:
        prediction.column = "prediction"
    target = drifts.get(label) if with_label else None
    live_quality = None
    if with_scores and label in current.columns:
        scores = np.asarray(current_scores, dtype="float64").ravel()
        live_quality = _live_quality(schema.label_binary(current).to_numpy(), scores)
    drifted = share >= share_threshold or (prediction is not None and prediction.drifted)
    return DriftResult(
        model=model,
        day=day.isoformat(),
        reference_days=[str(d) for d in reference_days],
        rows_reference=len(reference),
        rows_current=len(current),
        features=feature_drifts,
        share_drifted=share,
        drifted_features=drifted_features,
        prediction_drift=prediction,
        target_drift=target,
        live_quality=live_quality,
        verdict="drifted" if drifted else "stable",
        reasons=_reasons(
            drifted_features, len(features), share_threshold, prediction, target, live_quality, len(current)
        ),
        html=snapshot.get_html_str(as_iframe=False),
        share_threshold=share_threshold,
    )


# -- embeddings ------------------------------------------------------------------------------------------
def embedding_drift(reference_vectors: np.ndarray, current_vectors: np.ndarray, threshold: float) -> EmbeddingDrift:
    """MMD drift of sentence embeddings through Evidently's `EmbeddingsDrift` metric.

    Why MMD and not Evidently's default (a domain classifier: "model", ROC-AUC > 0.55): the reference is usually
    the curated eval set, whose wording differs from live chats (no greetings, typos, PII), so a classifier
    separates them on style alone (ROC-AUC ~0.87 on clean days, measured) and would alarm every day. MMD is an
    effect size on the whole distribution: the style gap gives a small constant score, a topic shift a
    large one, and the threshold (MMD², from the assistant's config) sits between the two.
    """
    from evidently import DataDefinition, Dataset, Report
    from evidently.metrics import EmbeddingsDrift
    from evidently.metrics.embeddings import MMDDriftMethod

    reference_vectors = np.asarray(reference_vectors, dtype="float64")
    current_vectors = np.asarray(current_vectors, dtype="float64")
    if reference_vectors.ndim != 2 or current_vectors.ndim != 2:
        raise ValueError("embedding drift takes 2-d arrays (rows, dim)")
    if reference_vectors.shape[1] != current_vectors.shape[1]:
        raise ValueError(f"dimension mismatch: {reference_vectors.shape[1]} vs {current_vectors.shape[1]}")
    if min(len(reference_vectors), len(current_vectors)) < 2:
        raise ValueError("embedding drift needs at least two vectors on each side")
    threshold = float(threshold)

    columns = [f"emb_{i}" for i in range(reference_vectors.shape[1])]
    reference = _sample(pd.DataFrame(reference_vectors, columns=columns), MAX_EMBEDDING_ROWS).reset_index(drop=True)
    current = _sample(pd.DataFrame(current_vectors, columns=columns), MAX_EMBEDDING_ROWS).reset_index(drop=True)
    definition = DataDefinition(numerical_columns=columns, embeddings={"embeddings": columns})
    report = Report([EmbeddingsDrift(embeddings_name="embeddings", drift_method=MMDDriftMethod(threshold=threshold))])
    # The metric always draws a t-SNE map for its HTML. On a few thousand points it is fastest on one thread,
    # and multi-threaded OpenMP spin-waits badly when cores are shared (measured on 210 points with a busy
    # neighbour process: 0.6 s on 1 thread, 1.7-45 s on 2). threadpoolctl ships with scikit-learn.
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        snapshot = report.run(
            current_data=Dataset.from_pandas(current, data_definition=definition),
            reference_data=Dataset.from_pandas(reference, data_definition=definition),
        )
    score = float(snapshot.dict()["metrics"][0]["value"])
    # The new-API metric returns only the score; MMDDriftMethod (no bootstrap) flags drift when MMD² > threshold.
    return EmbeddingDrift(
        method="mmd", score=score, threshold=threshold, drifted=score > threshold, html=snapshot.get_html_str(False)
    )
