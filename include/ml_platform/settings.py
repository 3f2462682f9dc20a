"""Runtime locations and switches, read from environment variables with documented defaults.

Every path the platform touches comes from here, so a user points the whole loop at other storage by
setting variables, never by editing code. Relative local paths resolve against the project root (not the
working directory) because Airflow runs tasks from wherever its worker happens to start.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]

# name -> (default, what it is for); README's configuration table is generated from the same facts.
ENV_DEFAULTS: dict[str, tuple[str, str]] = {
    "AIRFLOW_HOME": (
        ".local/airflow",
        "Embedded Airflow home: SQLite metadata DB, logs, generated admin password.",
    ),
    "LAKE_URI": (".local/lake", "Date-partitioned Parquet lake; `s3://bucket/prefix` uses S3 through boto3."),
    "MLFLOW_TRACKING_URI": (
        "sqlite:///.local/mlflow/mlflow.db",
        "MLflow tracking + registry store; any MLflow server URL works.",
    ),
    "MLFLOW_ARTIFACTS_URI": (".local/mlflow/artifacts", "Where MLflow stores artifacts; `s3://...` uses S3."),
    "VECTOR_STORE_URI": (
        ".local/vectors",
        "Embedded vector store (LanceDB) folder, or `weaviate://host:port`.",
    ),
    "REPORTS_URI": (
        ".local/reports",
        "Reports, plots, decision records and run summaries; `s3://...` works.",
    ),
    "RAW_URI": (
        ".local/raw",
        "Unredacted copies of free-text columns, written only when `raw_copy: true` in configs/pipelines/ingest.yaml.",
    ),
    "MODEL_CACHE_URI": (".local/models", "Base LLM files: the GGUF from `make models` and its dequantized cache."),
    "LANDING_URI": (
        ".local/landing",
        "Where a `landing` ingest source looks for `<table>/<YYYY-MM-DD>.csv` or `.parquet`.",
    ),
    "PLATFORM_SEED": ("42", "Seed of the demo data generators: same seed and date, same data."),
    "PLATFORM_CONFIG_DIR": (
        "include/ml_platform/configs",
        "Folder of the YAML configs (datasets, models, pipelines, assistant); point it at your own copy.",
    ),
}


def _resolve(value: str, root: Path) -> str:
    """Make a local path absolute against the project root; leave URIs (scheme://) untouched."""
    if "://" in value:
        return value
    path = Path(value).expanduser()
    return str(path if path.is_absolute() else (root / path).resolve())


def _resolve_sqlite(value: str, root: Path) -> str:
    prefix = "sqlite:///"
    if value.startswith(prefix) and not value.startswith(prefix + "/"):
        return prefix + str((root / value[len(prefix) :]).resolve())
    return value


@dataclass(frozen=True)
class Settings:
    project_root: Path
    airflow_home: str
    lake_uri: str
    mlflow_tracking_uri: str
    mlflow_artifacts_uri: str
    vector_store_uri: str
    reports_uri: str
    landing_uri: str
    raw_uri: str
    model_cache_uri: str
    seed: int
    config_dir: str

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        root = Path(env.get("PLATFORM_ROOT", str(PROJECT_ROOT))).resolve()

        def get(name: str) -> str:
            return env.get(name) or ENV_DEFAULTS[name][0]

        return cls(
            project_root=root,
            airflow_home=_resolve(get("AIRFLOW_HOME"), root),
            lake_uri=_resolve(get("LAKE_URI"), root),
            mlflow_tracking_uri=_resolve_sqlite(get("MLFLOW_TRACKING_URI"), root),
            mlflow_artifacts_uri=_resolve(get("MLFLOW_ARTIFACTS_URI"), root),
            vector_store_uri=_resolve(get("VECTOR_STORE_URI"), root),
            reports_uri=_resolve(get("REPORTS_URI"), root),
            landing_uri=_resolve(get("LANDING_URI"), root),
            raw_uri=_resolve(get("RAW_URI"), root),
            model_cache_uri=_resolve(get("MODEL_CACHE_URI"), root),
            seed=int(get("PLATFORM_SEED")),
            config_dir=_resolve(get("PLATFORM_CONFIG_DIR"), root),
        )


def env_table_markdown() -> str:
    """The README's configuration table, so docs and code cannot disagree."""
    rows = ["| Variable | Default | Purpose |", "|---|---|---|"]
    rows += [f"| `{name}` | `{default}` | {purpose} |" for name, (default, purpose) in ENV_DEFAULTS.items()]
    return "\n".join(rows)
