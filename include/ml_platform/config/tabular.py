"""Tabular model configs (`models/<name>.yaml`) and the training pipeline's shared settings.

One file describes one model completely; a new file on an existing dataset is a new model, with its own
training DAG, monitoring and registry entry, and nothing else to edit.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any, Literal

from pydantic import Field, model_validator

from ml_platform import names
from ml_platform.config.base import StrictModel, config_dir, load, load_named, names_in
from ml_platform.config.forms import FormField
from ml_platform.config.policy import PromotionPolicy
from ml_platform.errors import ConfigError

ExtraMetric = Literal["top_decile_lift", "recall_at_1pct_fpr"]
DerivedFeature = Literal["hour_of_day"]


class Window(StrictModel):
    train_days: int
    # The last training day is the early-stopping day, so at least two are needed.
    min_train_days: int = Field(ge=2)
    sample_rows_per_day: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _min_within_window(self) -> Window:
        if self.min_train_days > self.train_days:
            raise ValueError(f"min_train_days ({self.min_train_days}) > train_days ({self.train_days})")
        return self

    def history(self, day: date) -> tuple[date, date]:
        """The first and last day a model for `day` learns from (never `day` itself, its evaluation day)."""
        return day - timedelta(days=self.train_days), day - timedelta(days=1)


class Features(StrictModel):
    exclude: tuple[str, ...] = ()
    derived: tuple[DerivedFeature, ...] = ()


class Estimator(StrictModel):
    hyperparameters: dict[str, float | int]
    early_stopping_rounds: int = Field(ge=1)
    imbalance: Literal["none", "sqrt_balanced", "balanced"]
    seed: int


class Threshold(StrictModel):
    strategy: Literal["f1", "cost"]  # f1: best F1 on the early-stopping day; cost: cheapest by the cost matrix
    cost_false_positive: float = 1.0
    cost_false_negative: float = 1.0


class Metrics(StrictModel):
    extra: tuple[ExtraMetric, ...] = ()


class Monitoring(StrictModel):
    drift_share_threshold: float = Field(gt=0, le=1)
    prediction_drift: bool
    max_reference_rows: int = Field(ge=100)


class ModelConfig(StrictModel):
    name: str
    dataset: str
    registered_model: str
    description: str
    schedule: str
    window: Window
    features: Features = Features()
    model: Estimator
    threshold: Threshold
    metrics: Metrics = Metrics()
    promotion: PromotionPolicy
    monitoring: Monitoring

    @property
    def pipeline(self) -> str:
        """The training DAG's id and the folder of this model's records."""
        return names.training_pipeline(self.name)

    def for_run(self, params: Mapping[str, Any]) -> ModelConfig:
        """The config of one run: a manual run's form values replace the file's (the file never changes)."""
        window = self.window.model_copy(
            update={
                "train_days": params.get("train_days") or self.window.train_days,
                "sample_rows_per_day": params.get("sample_rows_per_day") or self.window.sample_rows_per_day,
            }
        )
        hyperparameters = {**self.model.hyperparameters, **(params.get("hyperparameters") or {})}
        model = self.model.model_copy(update={"hyperparameters": hyperparameters})
        return self.model_copy(update={"window": window, "model": model})

    def training_fingerprint(self) -> str:
        """Hash of everything that changes what training produces; part of a rerun's idempotency key."""
        return self.fingerprint(exclude={"description", "schedule", "promotion", "monitoring"})


class TrainingForm(StrictModel):
    train_days: FormField
    sample_rows_per_day: FormField
    hyperparameters: dict[str, FormField]  # the XGBoost parameters a manual run may override, with bounds


class TrainingPipelineConfig(StrictModel):
    """What every tabular training DAG shares (`pipelines/training.yaml`)."""

    start_date: date
    form: TrainingForm


def load_model_config(name: str) -> ModelConfig:
    config = load_named(ModelConfig, "models", name, "model config")
    if config.name != name:
        raise ConfigError(f"{config_dir()}/models/{name}.yaml: name {config.name!r} differs from the file name")
    return config


def model_names() -> list[str]:
    return names_in("models")


def load_training_pipeline() -> TrainingPipelineConfig:
    return load(TrainingPipelineConfig, "pipelines/training.yaml")
