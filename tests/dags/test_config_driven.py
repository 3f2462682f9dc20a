"""DAGs come from config: a broken config fails at parse time naming the file and the key, and a new model
YAML file on an existing dataset is a new model (training DAG, monitoring, rollback, records, summary) with
nothing else edited."""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml

from ml_platform.config.base import config_dir

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def config_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the shipped configs that PLATFORM_CONFIG_DIR points at."""
    folder = tmp_path / "configs"
    shutil.copytree(config_dir(), folder)
    monkeypatch.setenv("PLATFORM_CONFIG_DIR", str(folder))
    return folder


def edit(path: Path, change) -> None:
    raw = yaml.safe_load(path.read_text())
    change(raw)
    path.write_text(yaml.safe_dump(raw, sort_keys=False))


def bag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO / "dags"))


def test_an_unknown_key_or_a_wrong_type_fails_at_parse_time_naming_file_and_key(config_copy: Path) -> None:
    def break_it(raw: dict) -> None:
        raw["window"]["train_days"] = "ten"
        raw["monitoring"]["drift_treshold"] = 0.2

    edit(config_copy / "models" / "fraud.yaml", break_it)
    errors = bag().import_errors
    [message] = [m for path, m in errors.items() if path.endswith("tabular_training.py")]
    assert str(config_copy / "models" / "fraud.yaml") in message
    assert "window.train_days" in message and "'ten'" in message
    assert "monitoring.drift_treshold: Extra inputs are not permitted" in message


def test_a_broken_assistant_config_is_named_too(config_copy: Path) -> None:
    edit(config_copy / "llm" / "support_assistant.yaml", lambda raw: raw["finetune"].pop("abstain_share"))
    messages = "\n".join(bag().import_errors.values())
    assert "support_assistant.yaml: finetune.abstain_share: Field required" in messages


@pytest.mark.slow
def test_a_new_model_file_is_a_new_model_and_nothing_else_changes(config_copy: Path, settings) -> None:
    def lite(raw: dict) -> None:
        raw.update(name="churn_lite", registered_model="churn-lite-xgboost", schedule="50 2 * * *")
        raw["model"]["hyperparameters"].update(n_estimators=60, max_depth=2)
        raw["window"].update(train_days=3, min_train_days=2)

    new_file = config_copy / "models" / "churn_lite.yaml"
    shutil.copy(config_copy / "models" / "churn.yaml", new_file)
    edit(new_file, lite)

    dags = bag().dags
    training = dags["churn_lite_training"]
    assert {t.task_id for t in training.tasks} == {t.task_id for t in dags["churn_training"].tasks}
    assert {"drift_churn_lite", "trigger_retraining_churn_lite"} <= set(dags["model_monitoring"].task_ids)
    assert "churn_lite" in dags["model_rollback"].params.get_param("model").schema["enum"]

    _train_one_night(settings, date(2026, 11, 20))


def _train_one_night(settings, day: date) -> None:
    """The new model through validate -> train -> decide on demo churn data, and into the summary."""
    from ml_platform.config.pipelines import load_ingest_config
    from ml_platform.config.tabular import load_model_config
    from ml_platform.pipelines.ingest import ingest_step
    from ml_platform.pipelines.tabular import decide_step, train_step, validate_step
    from ml_platform.run_context import RunContext
    from ml_platform.summary import build_summary

    churn = load_ingest_config().groups["churn"].for_run({"source": "demo"})
    for offset in range(3, -1, -1):
        ingest_step(churn, settings, RunContext(day - timedelta(days=offset), "local"))
    config = load_model_config("churn_lite")
    ctx = RunContext(day, "scheduled", "scheduled__test", config.pipeline)
    validation = validate_step(config, settings, ctx)
    decision = decide_step(config, settings, ctx, train_step(config, settings, ctx), validation)
    assert decision["verdict"] == "promote" and decision["registered_model"] == "churn-lite-xgboost"
    assert (Path(settings.reports_uri) / "churn_lite_training" / day.isoformat() / "decision.json").exists()
    _, summary = build_summary(settings.reports_uri, day)
    assert [row["model"] for row in summary["sections"]["Models"]] == ["churn_lite"]
