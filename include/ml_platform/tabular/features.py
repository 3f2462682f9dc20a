"""Model inputs from a partition: schema-driven one-hot encoding with a fixed column set.

The columns come from the schema's vocabularies, not from the data, so a day that lacks a category (or has
an unknown one) still yields the same columns in the same order as the day the model was trained on.
"""

from __future__ import annotations

import pandas as pd

from ml_platform.config.datasets import DatasetSchema
from ml_platform.config.tabular import ModelConfig

DERIVED = {
    "hour_of_day": lambda frame, schema: frame[schema.time_column].dt.hour.astype(float),
}


def raw_feature_columns(schema: DatasetSchema, config: ModelConfig) -> list[str]:
    return [c for c in schema.feature_columns if c not in config.features.exclude]


def encode(frame: pd.DataFrame, schema: DatasetSchema, config: ModelConfig) -> pd.DataFrame:
    columns: dict[str, pd.Series] = {}
    for name in raw_feature_columns(schema, config):
        spec = schema.column(name)
        if spec.dtype == "category" and spec.values is not None and not spec.numeric:
            for value in spec.values:
                columns[f"{name}={value}"] = (frame[name] == value).astype(float)
        else:
            columns[name] = pd.to_numeric(frame[name], errors="coerce").astype(float)
    for name in config.features.derived:
        if name not in DERIVED:
            raise KeyError(f"unknown derived feature {name!r}; known: {sorted(DERIVED)}")
        columns[name] = DERIVED[name](frame, schema)
    return pd.DataFrame(columns, index=frame.index)


def score(model, frame: pd.DataFrame, schema: DatasetSchema, config: ModelConfig):
    """A trained XGBoost model's probabilities on a partition, encoded to the model's own feature list."""
    return model.predict_proba(align(encode(frame, schema, config), list(model.get_booster().feature_names)))[:, 1]


def align(encoded: pd.DataFrame, feature_names: list[str]) -> pd.DataFrame:
    """Reorder to a model's own feature list; columns it never saw are dropped, missing ones are 0."""
    return encoded.reindex(columns=feature_names, fill_value=0.0)
