"""Credentials the Airflow way: the connections a deployment defines become the environment the package reads.

The package takes every location and credential from environment variables (ml_platform.settings, boto3,
MLflow). A deployment that keeps its secrets in Airflow connections (a secrets backend such as Vault or AWS
Secrets Manager, `AIRFLOW_CONN_*` variables, or the metadata DB) defines these ids; each task resolves them
into its own process environment before it builds its Settings. A connection that does not exist leaves the
environment as it is, so the embedded defaults keep working without any connection. Nothing here is logged.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

LAKE_S3 = "lake_s3"
MLFLOW = "mlflow_default"
WEAVIATE = "weaviate_default"


def _s3(conn: Any) -> dict[str, str]:
    extra = conn.extra_dejson
    return {
        "AWS_ACCESS_KEY_ID": conn.login or "",
        "AWS_SECRET_ACCESS_KEY": conn.password or "",
        "AWS_ENDPOINT_URL": extra.get("endpoint_url", ""),
        # MLflow's artifact client reads its own variable for the same endpoint.
        "MLFLOW_S3_ENDPOINT_URL": extra.get("endpoint_url", ""),
        "AWS_DEFAULT_REGION": extra.get("region_name", ""),
    }


def _mlflow(conn: Any) -> dict[str, str]:
    port = f":{conn.port}" if conn.port else ""
    return {
        "MLFLOW_TRACKING_URI": f"{conn.schema or 'http'}://{conn.host}{port}",
        "MLFLOW_TRACKING_USERNAME": conn.login or "",
        "MLFLOW_TRACKING_PASSWORD": conn.password or "",
    }


def _weaviate(conn: Any) -> dict[str, str]:
    # Only where the deployment chose Weaviate: the embedded vector store needs no connection.
    if not os.environ.get("VECTOR_STORE_URI", "").startswith("weaviate://"):
        return {}
    grpc_port = conn.extra_dejson.get("grpc_port", 50051)
    return {
        "VECTOR_STORE_URI": f"weaviate://{conn.host}:{conn.port or 8080}?grpc_port={grpc_port}",
        "WEAVIATE_API_KEY": conn.password or "",
    }


# connection id -> the environment variables it provides; airflow_settings.yaml declares each id.
RESOLVERS: Mapping[str, Callable[[Any], dict[str, str]]] = {LAKE_S3: _s3, MLFLOW: _mlflow, WEAVIATE: _weaviate}


def _lookup(conn_id: str) -> Any | None:
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        return Connection.get(conn_id)
    except AirflowNotFoundException:
        return None


def connection_environment(lookup: Callable[[str], Any | None] = _lookup) -> dict[str, str]:
    """The variables the defined connections provide (empty values left out)."""
    found: dict[str, str] = {}
    for conn_id, resolve in RESOLVERS.items():
        conn = lookup(conn_id)
        if conn is not None:
            found |= {name: value for name, value in resolve(conn).items() if value}
    return found


def apply_connections() -> None:
    """Put the connections' variables into this task's environment (a task runs in its own process)."""
    os.environ.update(connection_environment())
