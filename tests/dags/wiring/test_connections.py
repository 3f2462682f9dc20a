"""Airflow connections become the environment the package reads; without them the environment stays as it is."""

from __future__ import annotations

import json

import pytest
import yaml
from airflow.sdk import Connection
from wiring.connections import LAKE_S3, MLFLOW, RESOLVERS, WEAVIATE, connection_environment

from tests.dags.conftest import REPO


def conn(uri_json: dict) -> Connection:
    return Connection.from_json(json.dumps(uri_json), conn_id="x")


def test_no_connection_changes_nothing() -> None:
    assert connection_environment(lambda _: None) == {}


def test_s3_and_mlflow_connections_set_credentials_and_endpoints(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VECTOR_STORE_URI", raising=False)
    defined = {
        LAKE_S3: conn(
            {
                "conn_type": "aws",
                "login": "key-id",
                "password": "s3cret",
                "extra": {"endpoint_url": "http://127.0.0.1:9000", "region_name": "eu-west-1"},
            }
        ),
        MLFLOW: conn({"conn_type": "http", "host": "mlflow", "port": 5000, "login": "ops", "password": "pw"}),
        WEAVIATE: conn({"conn_type": "generic", "host": "weaviate", "port": 8080, "password": "api-key"}),
    }
    env = connection_environment(defined.get)
    assert env["AWS_ACCESS_KEY_ID"] == "key-id" and env["AWS_SECRET_ACCESS_KEY"] == "s3cret"
    assert env["AWS_ENDPOINT_URL"] == env["MLFLOW_S3_ENDPOINT_URL"] == "http://127.0.0.1:9000"
    assert env["AWS_DEFAULT_REGION"] == "eu-west-1"
    assert env["MLFLOW_TRACKING_URI"] == "http://mlflow:5000"
    assert (env["MLFLOW_TRACKING_USERNAME"], env["MLFLOW_TRACKING_PASSWORD"]) == ("ops", "pw")
    # The embedded vector store needs no connection: a Weaviate connection matters only where Weaviate is chosen.
    assert "VECTOR_STORE_URI" not in env and "WEAVIATE_API_KEY" not in env


def test_weaviate_connection_points_a_weaviate_deployment_at_its_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VECTOR_STORE_URI", "weaviate://localhost:8080")
    weaviate = conn(
        {"conn_type": "generic", "host": "weaviate", "port": 8081, "password": "k", "extra": {"grpc_port": 50052}}
    )
    env = connection_environment({WEAVIATE: weaviate}.get)
    assert env == {"VECTOR_STORE_URI": "weaviate://weaviate:8081?grpc_port=50052", "WEAVIATE_API_KEY": "k"}


def test_every_connection_read_is_declared_in_airflow_settings() -> None:
    declared = yaml.safe_load((REPO / "airflow_settings.yaml").read_text())["airflow"]["connections"]
    assert set(RESOLVERS) <= {c["conn_id"] for c in declared}


def test_docker_compose_hands_every_connection_to_the_tasks() -> None:
    compose = yaml.safe_load((REPO / "docker-compose.yaml").read_text())
    env = compose["services"]["airflow-worker"]["environment"]
    assert {f"AIRFLOW_CONN_{conn_id.upper()}" for conn_id in RESOLVERS} <= set(env)
