"""Airflow Assets of the platform, each named once in ml_platform.names."""

from __future__ import annotations

from airflow.sdk import Asset

from ml_platform import names


def lake_asset(table: str) -> Asset:
    """Updated when a partition of `table` lands; consumers schedule on it."""
    name, uri = names.lake_asset(table)
    return Asset(name=name, uri=uri)


def drift_asset(model: str) -> Asset:
    """Updated by model_monitoring when a model's data drifted; the model's training DAG listens to it."""
    name, uri = names.drift_asset(model)
    return Asset(name=name, uri=uri)


def live_index_asset(kb_table: str) -> Asset:
    """Updated by kb_embedding_refresh when it makes an index of `kb_table` live."""
    name, uri = names.live_index_asset(kb_table)
    return Asset(name=name, uri=uri)
