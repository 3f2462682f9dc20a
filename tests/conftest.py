"""Shared fixtures: isolated platform settings, and a real S3 endpoint (moto's server over HTTP on loopback)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from ml_platform.settings import Settings
from tests.helpers import free_port

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A moto S3 server on 127.0.0.1; boto3 reaches it through the standard AWS_ENDPOINT_URL."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ENDPOINT_URL", endpoint)
        patch.setenv("AWS_ACCESS_KEY_ID", "testing")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        patch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        yield endpoint
    server.stop()


@pytest.fixture
def s3_bucket(s3_endpoint: str) -> str:
    import boto3

    name = f"lake-{uuid.uuid4().hex[:12]}"
    boto3.client("s3").create_bucket(Bucket=name)
    return name


@pytest.fixture(params=["local", "s3"])
def store_uri(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same tests run against local disk and the S3 protocol."""
    if request.param == "local":
        return str(tmp_path / "store")
    bucket = request.getfixturevalue("s3_bucket")
    return f"s3://{bucket}/platform"


@pytest.fixture
def platform_env(tmp_path: Path) -> dict[str, str]:
    """Environment of an isolated platform: every location under tmp_path."""
    return {
        "PLATFORM_ROOT": str(REPO),
        "LAKE_URI": str(tmp_path / "lake"),
        "REPORTS_URI": str(tmp_path / "reports"),
        "LANDING_URI": str(tmp_path / "landing"),
        "RAW_URI": str(tmp_path / "raw"),
        "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}",
        "MLFLOW_ARTIFACTS_URI": str(tmp_path / "mlflow-artifacts"),
        "VECTOR_STORE_URI": str(tmp_path / "vectors"),
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "PLATFORM_SEED": "7",
        "DEMO_SCALE": "0.1",
    }


@pytest.fixture
def settings(platform_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name, value in platform_env.items():
        monkeypatch.setenv(name, value)
    return Settings.from_env()
