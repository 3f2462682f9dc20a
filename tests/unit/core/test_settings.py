from __future__ import annotations

from pathlib import Path

from ml_platform.settings import ENV_DEFAULTS, PROJECT_ROOT, Settings, env_table_markdown


def test_defaults_resolve_under_the_project_root_not_the_working_directory(monkeypatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings.from_env({})
    assert settings.lake_uri == str(PROJECT_ROOT / ".local" / "lake")
    assert settings.airflow_home == str(PROJECT_ROOT / ".local" / "airflow")
    assert settings.mlflow_tracking_uri == f"sqlite:///{PROJECT_ROOT / '.local' / 'mlflow' / 'mlflow.db'}"
    assert settings.seed == 42


def test_uris_pass_through_and_relative_paths_follow_platform_root(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "PLATFORM_ROOT": str(tmp_path),
            "LAKE_URI": "s3://bucket/lake",
            "REPORTS_URI": "out/reports",
            "MLFLOW_TRACKING_URI": "http://mlflow:5000",
            "PLATFORM_SEED": "9",
        }
    )
    assert settings.lake_uri == "s3://bucket/lake"
    assert settings.reports_uri == str(tmp_path / "out" / "reports")
    assert settings.mlflow_tracking_uri == "http://mlflow:5000"
    assert settings.seed == 9


def test_readme_documents_every_variable_with_its_default() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text()
    assert env_table_markdown() in readme, "README's table is stale: paste `ml-platform env-table`"
    for name, (default, _) in ENV_DEFAULTS.items():
        assert f"`{name}`" in readme and f"`{default}`" in readme
