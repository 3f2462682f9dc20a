"""Files users run without us: docker-compose.yaml (no Docker engine here, so it is read, not started),
airflow_settings.yaml, requirements.txt and the CI entry point."""

from __future__ import annotations

from pathlib import Path

import yaml

from ml_platform.settings import PROJECT_ROOT

COMPOSE = yaml.safe_load((PROJECT_ROOT / "docker-compose.yaml").read_text())
SERVICES = COMPOSE["services"]
AIRFLOW_SERVICES = ["airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer"]


def test_compose_has_the_platform_services() -> None:
    expected = {"postgres", "minio", "minio-init", "mlflow", "weaviate", "airflow-init", *AIRFLOW_SERVICES}
    assert expected <= set(SERVICES)


def test_long_running_services_have_healthchecks() -> None:
    for name, service in SERVICES.items():
        if name.endswith("-init"):
            continue
        assert "healthcheck" in service, f"{name} has no healthcheck"
        assert service["healthcheck"]["test"][0] == "CMD"


def test_airflow_services_share_config_and_mount_the_repo() -> None:
    for name in [*AIRFLOW_SERVICES, "airflow-init"]:
        service = SERVICES[name]
        env = service["environment"]
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://")
        assert env["LAKE_URI"].startswith("s3://") and env["AWS_ENDPOINT_URL"] == "http://minio:9000"
        assert env["MLFLOW_TRACKING_URI"] == "http://mlflow:5000"
        assert env["VECTOR_STORE_URI"].startswith("weaviate://")
        assert "./dags:/opt/airflow/dags" in service["volumes"]
        assert "airflow-init" in service["depends_on"] or name == "airflow-init"
    assert SERVICES["airflow-apiserver"]["ports"] == ["8080:8080"]


def test_compose_environment_names_only_documented_platform_variables() -> None:
    from ml_platform.settings import ENV_DEFAULTS

    env = SERVICES["airflow-scheduler"]["environment"]
    platform_vars = {k for k in env if k.endswith("_URI")}
    assert platform_vars <= set(ENV_DEFAULTS)


def test_compose_volumes_are_declared() -> None:
    used = {v.split(":")[0] for s in SERVICES.values() for v in s.get("volumes", []) if not v.startswith(".")}
    assert used <= set(COMPOSE["volumes"])


def test_airflow_settings_follow_the_astro_format() -> None:
    from scripts.load_airflow_settings import translate

    raw = yaml.safe_load((PROJECT_ROOT / "airflow_settings.yaml").read_text())
    parts = translate(raw)
    assert {"weaviate_default", "lake_s3", "mlflow_default"} <= set(parts["connections"])
    assert parts["pools"]["llm_training"]["slots"] == 1
    assert "alert_webhook_url" in parts["variables"]


def test_requirements_are_all_pinned() -> None:
    text = (PROJECT_ROOT / "requirements.txt").read_text().splitlines()
    pins = [line for line in text if line and not line.startswith("#")]
    unpinned = [line for line in pins if "==" not in line]
    assert not unpinned, unpinned
    versions = {line.split("==")[0].lower().replace("_", "-"): line.split("==")[1] for line in pins}
    assert {"apache-airflow", "torch", "pandas", "xgboost", "mlflow", "boto3", "moto"} <= set(versions)
    assert versions["apache-airflow"] == "3.3.2"
    assert int(versions["pandas"].split(".")[0]) < 3, "pandas 3 breaks evidently"


def test_ci_runs_exactly_the_readme_test_command() -> None:
    ci = (PROJECT_ROOT / ".ci" / "run").read_text()
    readme = (PROJECT_ROOT / "README.md").read_text()
    assert "make test" in ci.splitlines()[-1]
    assert "make test" in readme and "make run" in readme
    assert Path(PROJECT_ROOT / ".ci" / "run").stat().st_mode & 0o111
