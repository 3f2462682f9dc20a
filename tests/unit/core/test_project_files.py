"""Files users run without us: docker-compose.yaml (no Docker engine here, so it is read, not started),
airflow_settings.yaml, requirements.txt and the CI entry point."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from ml_platform.settings import PROJECT_ROOT
from scripts.distributed import AIRFLOW_COMPONENTS, AIRFLOW_ENVIRONMENT, BACKING_SERVICES, EXECUTOR

COMPOSE = yaml.safe_load((PROJECT_ROOT / "docker-compose.yaml").read_text())
COMPOSE_TEXT = (PROJECT_ROOT / "docker-compose.yaml").read_text()
SERVICES = COMPOSE["services"]
# The harness of `make distributed` holds the one list of components both run.
AIRFLOW_SERVICES = {
    f"airflow-{name.replace('api-server', 'apiserver')}": cmd for name, cmd in AIRFLOW_COMPONENTS.items()
}
SECRET_WORDS = ("PASSWORD", "SECRET", "FERNET", "API_KEY", "ALLOWED_KEYS")


def test_compose_runs_every_component_of_the_harness_with_its_command() -> None:
    for service, command in AIRFLOW_SERVICES.items():
        assert SERVICES[service]["command"] == " ".join(command), service
    for _, compose_service in BACKING_SERVICES.values():
        assert compose_service in SERVICES, compose_service
    assert {"airflow-init", "minio-init"} <= set(SERVICES)


def test_airflow_services_share_the_environment_the_harness_sets() -> None:
    for service in [*AIRFLOW_SERVICES, "airflow-init"]:
        env = SERVICES[service]["environment"]
        assert set(AIRFLOW_ENVIRONMENT) <= set(env), (service, set(AIRFLOW_ENVIRONMENT) - set(env))
        assert env["AIRFLOW__CORE__EXECUTOR"] == EXECUTOR
        assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://")
        assert env["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql+psycopg2://")
        assert "./dags:/opt/airflow/dags" in SERVICES[service]["volumes"]
        assert service == "airflow-init" or "airflow-init" in SERVICES[service]["depends_on"]


def test_every_location_the_code_reads_is_set_and_documented() -> None:
    from ml_platform.settings import ENV_DEFAULTS

    env = SERVICES["airflow-scheduler"]["environment"]
    locations = {name for name in ENV_DEFAULTS if name.endswith("_URI") and name != "MLFLOW_TRACKING_URI"}
    assert locations <= set(env), locations - set(env)
    assert {k for k in env if k.endswith("_URI")} <= set(ENV_DEFAULTS)
    # S3 and MLflow reach the tasks as connections, not as plain variables.
    assert not {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "MLFLOW_TRACKING_URI"} & set(env)


def test_every_secret_comes_from_env_and_compose_refuses_to_start_without_it() -> None:
    for name, service in SERVICES.items():
        for key, value in (service.get("environment") or {}).items():
            if (
                any(word in key for word in SECRET_WORDS)
                and not key.startswith("AIRFLOW_CONN_")
                and not key.endswith("_FILE")
            ):
                assert str(value).startswith("${") and ":?" in str(value), f"{name}.{key} = {value!r}"
    for reference in re.findall(r"\$\{([A-Z_]+)([^}]*)\}", COMPOSE_TEXT):
        if any(word in reference[0] for word in SECRET_WORDS) or reference[0].endswith("_USER"):
            assert reference[1].startswith(":?"), reference
    example = (PROJECT_ROOT / ".env.example").read_text()
    needed = {r[0] for r in re.findall(r"\$\{([A-Z_]+)(:\?[^}]*)\}", COMPOSE_TEXT)}
    assert needed <= {line.split("=")[0] for line in example.splitlines() if "=" in line and not line.startswith("#")}
    assert not re.search(
        r"=\S", "\n".join(line for line in example.splitlines() if "PASSWORD" in line or "SECRET" in line)
    )


def test_ports_are_bound_to_loopback() -> None:
    for name, service in SERVICES.items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name}: {port}"


def test_long_running_services_have_healthchecks() -> None:
    for name, service in SERVICES.items():
        if name.endswith("-init"):
            continue
        assert "healthcheck" in service, f"{name} has no healthcheck"
        assert service["healthcheck"]["test"][0] in ("CMD", "CMD-SHELL")


def test_image_and_packages_agree_with_requirements() -> None:
    pins = dict(line.split("==") for line in (PROJECT_ROOT / "requirements.txt").read_text().split() if "==" in line)
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text()
    assert f"FROM apache/airflow:{pins['apache-airflow']}-python3.11" in dockerfile
    assert "requirements.txt" in dockerfile and "fetch_models.sh" in dockerfile
    assert "apache-airflow-providers-celery" in pins
    assert SERVICES["airflow-scheduler"]["image"].endswith(pins["apache-airflow"])


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


def test_every_integration_module_runs_in_exactly_one_lane() -> None:
    from scripts.test_lanes import FOLDER, LANES, unplaced

    placed = [name for lane in LANES.values() for name in lane]
    assert len(placed) == len(set(placed)), "a module in two lanes would run twice"
    assert all((FOLDER / name).exists() for name in placed)
    assert not unplaced(), "place these modules in a lane of scripts/test_lanes.py"
