"""Time-based training of an XGBoost classifier for one run date D.

Train on the window of days before D, stop early on the last of those days, evaluate on D itself: the model
never sees its evaluation day, and never learns from the future.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from ml_platform import names
from ml_platform.config.datasets import DatasetSchema, load_schema
from ml_platform.config.tabular import ModelConfig
from ml_platform.dates import as_date
from ml_platform.errors import NotEnoughHistory
from ml_platform.lake import Lake
from ml_platform.provenance import sha256_bytes
from ml_platform.tabular.features import encode
from ml_platform.tabular.metrics import choose_threshold, evaluate

log = logging.getLogger(__name__)


@dataclass
class TrainingData:
    train: pd.DataFrame
    valid: pd.DataFrame
    test: pd.DataFrame
    train_dates: list[date]
    valid_date: date
    test_date: date
    partitions: list[dict[str, Any]] = field(default_factory=list)


def _sample(frame: pd.DataFrame, rows: int | None, seed: int) -> pd.DataFrame:
    if not rows or len(frame) <= rows:
        return frame
    return frame.sample(n=rows, random_state=seed).sort_index()


def load_training_data(lake: Lake, config: ModelConfig, day: date | str, skip: set[date] = frozenset()) -> TrainingData:
    """The window's landed days, except `skip` (history days this run leaves out), and the day to evaluate on."""
    day = as_date(day)
    first, last = config.window.history(day)
    landed = [d for d in lake.dates(config.dataset, first, last) if d not in skip]
    if len(landed) < config.window.min_train_days:
        raise NotEnoughHistory(
            f"{config.name}: {len(landed)} landed day(s) of {config.dataset} between {first} and "
            f"{last}; at least {config.window.min_train_days} are needed to train: backfill "
            f"{names.INGEST} for those dates first"
        )
    # Rows and facts from one read each, so the recorded hashes are those of the rows trained on.
    loaded = {d: lake.load(config.dataset, d) for d in [*landed, day]}
    roles = dict.fromkeys(landed[:-1], "train") | {landed[-1]: "early_stopping", day: "evaluation"}
    partitions = [loaded[d][1].as_dict() | {"role": role} for d, role in roles.items()]
    return split_days(config, {d: frame for d, (frame, _) in loaded.items()}, day, partitions)


def split_days(
    config: ModelConfig, frames: dict[date, pd.DataFrame], test_day: date, partitions: list[dict[str, Any]]
) -> TrainingData:
    """Train on every day before the last, stop early on the last, evaluate on `test_day`. A run and its
    reproduction both split here, so the same rows give the same sample and the same model."""
    rows, seed = config.window.sample_rows_per_day, config.model.seed
    sampled = {d: _sample(frame, rows, seed).reset_index(drop=True) for d, frame in frames.items()}
    history = sorted(d for d in sampled if d != test_day)
    return TrainingData(
        train=pd.concat([sampled[d] for d in history[:-1]], ignore_index=True),
        valid=sampled[history[-1]],
        test=sampled[test_day],
        train_dates=history[:-1],
        valid_date=history[-1],
        test_date=test_day,
        partitions=partitions,
    )


def scale_pos_weight(y: np.ndarray, mode: str) -> float:
    positives = max(int(y.sum()), 1)
    ratio = (len(y) - positives) / positives
    return {"none": 1.0, "sqrt_balanced": float(np.sqrt(ratio)), "balanced": float(ratio)}[mode]


@dataclass
class TrainingResult:
    model: Any
    feature_names: list[str]
    metrics: dict[str, float]
    valid_metrics: dict[str, float]
    threshold: float
    best_iteration: int
    y_test: np.ndarray
    p_test: np.ndarray
    x_test: pd.DataFrame
    data: TrainingData

    @property
    def model_sha256(self) -> str:
        """The trained booster's bytes, hashed: equal hashes mean the same model, bit for bit."""
        return sha256_bytes(bytes(self.model.get_booster().save_raw(raw_format="ubj")))


def classifier(config: ModelConfig, y_train: np.ndarray):
    """The model a config trains, before fitting: deterministic settings, early stopping on the validation day."""
    import xgboost as xgb

    return xgb.XGBClassifier(
        **config.model.hyperparameters,
        tree_method="hist",
        objective="binary:logistic",
        eval_metric="logloss",
        early_stopping_rounds=config.model.early_stopping_rounds,
        scale_pos_weight=scale_pos_weight(y_train, config.model.imbalance),
        random_state=config.model.seed,
        n_jobs=2,
    )


def train_and_evaluate(data: TrainingData, config: ModelConfig, schema: DatasetSchema | None = None) -> TrainingResult:
    schema = schema or load_schema(config.dataset)
    x_train, x_valid, x_test = (encode(f, schema, config) for f in (data.train, data.valid, data.test))
    y_train, y_valid, y_test = (schema.label_binary(f).to_numpy() for f in (data.train, data.valid, data.test))
    model = classifier(config, y_train)
    model.fit(x_train, y_train, eval_set=[(x_valid, y_valid)], verbose=False)
    log.info(
        "%s: trained on %d rows (%d days), early-stopped at tree %d of %d on %s",
        config.name,
        len(x_train),
        len(data.train_dates),
        model.best_iteration + 1,
        config.model.hyperparameters.get("n_estimators"),
        data.valid_date,
    )
    p_valid = model.predict_proba(x_valid)[:, 1]
    threshold = choose_threshold(y_valid, p_valid, config)
    p_test = model.predict_proba(x_test)[:, 1]
    return TrainingResult(
        model=model,
        feature_names=list(x_train.columns),
        metrics=evaluate(y_test, p_test, threshold, config),
        valid_metrics=evaluate(y_valid, p_valid, threshold, config),
        threshold=threshold,
        best_iteration=int(model.best_iteration),
        y_test=y_test,
        p_test=p_test,
        x_test=x_test,
        data=data,
    )
