"""Every DAG imports cleanly and follows the house rules: owner, tags, docs, retries with backoff,
timeouts, and a periodic schedule that backfills can walk."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DAG_FILES = sorted(p for p in (REPO / "dags").glob("*.py"))


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO / "dags"))


def test_every_dag_file_imports_without_errors(dagbag) -> None:
    assert dagbag.import_errors == {}
    assert dagbag.dags, "no DAG found"
    assert len(dagbag.dags) >= len(DAG_FILES), "each DAG file should define at least one DAG"


def test_expected_dags_exist(dagbag) -> None:
    assert {"ingest_daily", "churn_training", "fraud_training", "model_rollback"} <= set(dagbag.dags)


def test_training_dags_chain_wait_validate_train_decide(dagbag) -> None:
    for dag_id in ("churn_training", "fraud_training"):
        dag = dagbag.dags[dag_id]
        assert dag.get_task("validate").upstream_task_ids == {"wait_for_partition"}
        assert dag.get_task("train").upstream_task_ids == {"validate"}
        assert dag.get_task("decide").upstream_task_ids == {"train", "validate"}
        assert dag.get_task("train").pool == "model_training"
        assert dag.get_task("wait_for_partition").mode == "reschedule"


def test_training_form_refuses_invalid_values(dagbag) -> None:
    from airflow.sdk.definitions.param import ParamsDict
    from airflow.sdk.exceptions import ParamValidationError

    params = dagbag.dags["churn_training"].params

    def submit(values: dict) -> None:
        form = ParamsDict({key: params.get_param(key) for key in params})
        for key, value in values.items():
            form[key] = value
        form.validate()

    submit({"train_days": 7, "hyperparameters": {"max_depth": 5, "learning_rate": 0.1}, "force_promote": False})
    bad_values = [
        {"train_days": 1},
        {"train_days": "ten"},
        {"hyperparameters": {"max_depth": 50}},
        {"hyperparameters": {"learning_rate": 0}},
        {"hyperparameters": {"colour": "blue"}},
        {"sample_rows_per_day": 5},
        {"force_promote": "yes"},
    ]
    for bad in bad_values:
        with pytest.raises(ParamValidationError):
            submit(bad)


def scheduler_view(dag):
    """The DAG as the scheduler sees it (serialized and back), whose timetable knows if it backfills."""
    from airflow.serialization.serialized_objects import DagSerialization

    return DagSerialization.from_dict(DagSerialization.to_dict(dag))


def test_every_dag_has_owner_tags_doc_and_a_backfillable_schedule(dagbag) -> None:
    for dag_id, dag in dagbag.dags.items():
        dag = scheduler_view(dag)
        assert dag.tags, f"{dag_id}: no tags"
        assert dag.doc_md and len(dag.doc_md) > 40, f"{dag_id}: no doc_md shown in the UI"
        if "manual-only" in dag.tags:
            # Operator actions (a rollback) must never run on a timer; they say so with this tag.
            assert dag.timetable.summary == "None", f"{dag_id}: tagged manual-only but scheduled"
            continue
        assert dag.timetable.periodic, f"{dag_id}: schedule is not periodic, so it cannot be backfilled"
        assert dag.start_date is not None, f"{dag_id}: no start_date"


def test_every_task_has_owner_retries_with_backoff_and_a_timeout(dagbag) -> None:
    for dag_id, dag in dagbag.dags.items():
        for task in dag.tasks:
            where = f"{dag_id}.{task.task_id}"
            assert task.owner and task.owner != "airflow", f"{where}: no owner"
            assert task.retries >= 2, f"{where}: retries {task.retries} < 2"
            assert task.retry_exponential_backoff, f"{where}: no exponential backoff"
            assert task.execution_timeout is not None, f"{where}: no execution_timeout"
            assert task.on_failure_callback, f"{where}: failures would raise no alert"


def test_ingest_daily_lands_every_group_and_emits_its_assets(dagbag) -> None:
    from ml_platform.config.pipelines import load_ingest_config

    groups = load_ingest_config().groups
    dag = dagbag.dags["ingest_daily"]
    assert {t.task_id for t in dag.tasks} == {f"ingest_{g}" for g in groups}
    for group in groups.values():
        outlets = {o.uri for o in dag.get_task(f"ingest_{group.name}").outlets}
        assert outlets == {f"lake://{t}/" for t in group.tables}


def test_only_an_index_that_went_live_is_announced_as_the_live_index(dagbag) -> None:
    from ml_platform import names

    dag = dagbag.dags["kb_embedding_refresh"]
    _, live_index = names.live_index_asset("support_kb")
    announcing = {t.task_id for t in dag.tasks if any(o.uri.rstrip("/") == live_index for o in t.outlets)}
    assert announcing == {"announce_live_index"}, "a backfill's refresh must not update the live-index asset"
    assert dag.get_task("announce_live_index").upstream_task_ids == {"refresh"}


def test_every_pool_a_task_uses_is_declared_in_airflow_settings(dagbag) -> None:
    import yaml

    settings = yaml.safe_load((REPO / "airflow_settings.yaml").read_text())
    declared = {p["pool_name"] for p in settings["airflow"]["pools"]} | {"default_pool"}
    for dag_id, dag in dagbag.dags.items():
        for task in dag.tasks:
            assert task.pool in declared, (
                f"{dag_id}.{task.task_id} uses undeclared pool {task.pool!r}: it would never run"
            )


def test_every_task_that_moves_aliases_waits_for_the_one_slot_pool(dagbag) -> None:
    movers = {
        (dag_id, task.task_id)
        for dag_id, dag in dagbag.dags.items()
        for task in dag.tasks
        if task.task_id in ("decide", "rollback")
    }
    assert len(movers) >= 4
    for dag_id, task_id in movers:
        assert dagbag.dags[dag_id].get_task(task_id).pool == "registry_aliases", (dag_id, task_id)
