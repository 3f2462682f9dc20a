"""Trigger-form fields (Airflow Params with JSON schema) built from the bounds in config."""

from __future__ import annotations

from typing import Any

from airflow.sdk import Param


def bounded(field, default: Any = None, description: str = "") -> Param:
    """An optional number field (empty keeps the config's value) within the config's bounds."""
    return Param(
        default,
        type=["null", field.type],
        description=" ".join(filter(None, (field.description, description))),
        **{k: v for k, v in field.json_schema().items() if k != "type"},
    )


def hyperparameters(fields: dict, defaults: dict[str, Any]) -> Param:
    """An object of known XGBoost parameters only, each within its bounds."""
    return Param(
        {},
        type="object",
        properties={name: field.json_schema() for name, field in fields.items()},
        additionalProperties=False,
        description=f'XGBoost overrides, e.g. {{"max_depth": 5}}; defaults: {defaults}',
    )


def force_promote() -> dict[str, Param]:
    """The two fields every promoting DAG offers; the run's context checks the reason when it is used."""
    return {
        "force_promote": Param(
            False, type="boolean", description="Promote the new model even if a gate fails (manual runs only)."
        ),
        "force_reason": Param(
            "", type="string", maxLength=500, description="Required with force_promote: why, in words; it is recorded."
        ),
    }
