"""Typed model configs from `configs/models/<name>.yaml`: the one place a tabular model is described.

Light on purpose (YAML and dataclasses only): the DAG factory reads these while DAG files are parsed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, replace
from functools import cache
from typing import Any

import yaml

from ml_platform.catalog import CONFIG_DIR
from ml_platform.policy import PromotionPolicy

MODELS_DIR = CONFIG_DIR / "models"
THRESHOLD_STRATEGIES = ("f1", "cost")
IMBALANCE = ("none", "sqrt_balanced", "balanced")


@dataclass(frozen=True)
class ModelConfig:
    name: str
    dataset: str
    registered_model: str
    description: str
    schedule: str
    train_days: int
    min_train_days: int
    sample_rows_per_day: int | None
    exclude_features: tuple[str, ...]
    derived_features: tuple[str, ...]
    hyperparameters: dict[str, Any]
    early_stopping_rounds: int
    imbalance: str
    seed: int
    threshold_strategy: str
    cost_false_positive: float
    cost_false_negative: float
    extra_metrics: tuple[str, ...]
    promotion: PromotionPolicy
    drift_share_threshold: float = 0.3
    prediction_drift: bool = True
    max_reference_rows: int = 20000
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def dag_id(self) -> str:
        return f"{self.name}_training"

    @property
    def pipeline(self) -> str:
        """Folder of this model's records under REPORTS_URI."""
        return self.dag_id

    def with_overrides(
        self,
        train_days: int | None = None,
        hyperparameters: dict[str, Any] | None = None,
        sample_rows_per_day: int | None = None,
    ) -> ModelConfig:
        """The config of a manual run: form values replace the file's, the file itself never changes."""
        return replace(
            self,
            train_days=train_days or self.train_days,
            hyperparameters={**self.hyperparameters, **(hyperparameters or {})},
            sample_rows_per_day=sample_rows_per_day or self.sample_rows_per_day,
        )

    def fingerprint(self) -> str:
        """Hash of everything that changes what training produces; part of the rerun idempotency key."""
        ignored = (
            "raw",
            "description",
            "schedule",
            "promotion",
            "drift_share_threshold",
            "prediction_drift",
            "max_reference_rows",
        )
        relevant = {k: v for k, v in asdict(self).items() if k not in ignored}
        return hashlib.sha256(json.dumps(relevant, sort_keys=True, default=str).encode()).hexdigest()[:12]


def _parse(raw: dict[str, Any]) -> ModelConfig:
    config = ModelConfig(
        name=raw["name"],
        dataset=raw["dataset"],
        registered_model=raw["registered_model"],
        description=raw.get("description", ""),
        schedule=raw["schedule"],
        train_days=int(raw["window"]["train_days"]),
        min_train_days=int(raw["window"]["min_train_days"]),
        sample_rows_per_day=raw["window"].get("sample_rows_per_day"),
        exclude_features=tuple(raw.get("features", {}).get("exclude", [])),
        derived_features=tuple(raw.get("features", {}).get("derived", [])),
        hyperparameters=dict(raw["model"]["hyperparameters"]),
        early_stopping_rounds=int(raw["model"]["early_stopping_rounds"]),
        imbalance=raw["model"].get("imbalance", "none"),
        seed=int(raw["model"].get("seed", 0)),
        threshold_strategy=raw["threshold"]["strategy"],
        cost_false_positive=float(raw["threshold"].get("cost_false_positive", 1.0)),
        cost_false_negative=float(raw["threshold"].get("cost_false_negative", 1.0)),
        extra_metrics=tuple(raw.get("metrics", {}).get("extra", [])),
        promotion=PromotionPolicy.from_config(raw["promotion"]),
        drift_share_threshold=float(raw.get("monitoring", {}).get("drift_share_threshold", 0.3)),
        prediction_drift=bool(raw.get("monitoring", {}).get("prediction_drift", True)),
        max_reference_rows=int(raw.get("monitoring", {}).get("max_reference_rows", 20000)),
        raw=raw,
    )
    _check(config)
    return config


def _check(config: ModelConfig) -> None:
    problems = []
    if config.threshold_strategy not in THRESHOLD_STRATEGIES:
        problems.append(f"threshold.strategy {config.threshold_strategy!r} not in {THRESHOLD_STRATEGIES}")
    if config.imbalance not in IMBALANCE:
        problems.append(f"model.imbalance {config.imbalance!r} not in {IMBALANCE}")
    if not 1 <= config.min_train_days <= config.train_days:
        problems.append(
            f"window: need 1 <= min_train_days ({config.min_train_days}) <= train_days ({config.train_days})"
        )
    if config.min_train_days < 2:
        problems.append("window.min_train_days must be >= 2: the last training day is the early-stopping day")
    if problems:
        raise ValueError(f"configs/models/{config.name}.yaml: " + "; ".join(problems))


@cache
def load_model_config(name: str) -> ModelConfig:
    path = MODELS_DIR / f"{name}.yaml"
    if not path.exists():
        raise KeyError(f"no model config {name!r}; known: {model_names()}")
    return _parse(yaml.safe_load(path.read_text()))


def model_names() -> list[str]:
    return sorted(p.stem for p in MODELS_DIR.glob("*.yaml"))
