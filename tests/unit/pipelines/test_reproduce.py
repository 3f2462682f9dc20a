"""`reproduce` of a fine-tuned assistant version is a real rebuild every time: a second reproduce into the same
scratch folder does not resume from the checkpoints the first one left there. A version, tabular or assistant,
is rebuilt from the rows its record names, by content hash, wherever the lake keeps them now."""

from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace

import pandas as pd
import pytest

from ml_platform.config.assistant import load_assistant_config
from ml_platform.pipelines import reproduce


class FakeStore:
    def list_indexes(self) -> list[str]:
        return ["kb_20260312"]

    def close(self) -> None:
        pass


def _assistant_world(settings, monkeypatch, calls: list[tuple[pd.DataFrame, int]]) -> dict:
    """A fine-tuned assistant's record over a real lake's Q&A day; fine-tuning itself is replaced by a recorder
    of what it was given (what is checked here is what the rebuild feeds it)."""
    from ml_platform.lake import Lake
    from ml_platform.provenance import build_record

    day = date(2026, 3, 12)
    qa = pd.DataFrame({"question": ["How do I reset my router?"], "answer": ["Hold reset for 10 s."]})
    partition = Lake.at(settings.lake_uri).write("support_qa", day, qa, {"source": "demo"})

    def finetune(model, tokenizer, examples, config, prompt, checkpoints, workdir):
        calls.append((examples, checkpoints.latest_step()))  # what it trains on, from which step
        checkpoints.store.put(f"{checkpoints.prefix}/step-000002/state.json", b"{}")  # as a finished run leaves
        return SimpleNamespace(history=[1.0, 0.5], adapter_dir=workdir / "adapter")

    monkeypatch.setattr(reproduce, "sha256_files", lambda folder, names: "adapter-sha")
    monkeypatch.setattr("ml_platform.llm.base.resolve_base_model", lambda config, s: SimpleNamespace(sha256="b"))
    monkeypatch.setattr("ml_platform.llm.base.load_base", lambda base: (None, None))
    monkeypatch.setattr("ml_platform.llm.examples.training_examples", lambda qa, retriever, config: (qa.copy(), {}))
    monkeypatch.setattr("ml_platform.llm.finetune.finetune", finetune)
    monkeypatch.setattr("ml_platform.retrieval.stores.open_vector_store", lambda uri: FakeStore())
    monkeypatch.setattr("ml_platform.retrieval.index.Retriever", lambda store, name: store)
    return build_record(
        kind="assistant",
        model="support_assistant",
        date=day.isoformat(),
        config=load_assistant_config().model_dump(mode="json"),
        config_hash="h",
        partitions=[partition.as_dict() | {"role": "train"}],
        seeds={},
        model_sha256="adapter-sha",
        root=settings.project_root,
    ) | {"base_model_sha256": "b", "index_version": "kb_20260312"}


def test_a_second_reproduce_of_an_assistant_starts_from_step_zero(settings, tmp_path, monkeypatch) -> None:
    calls: list[tuple[pd.DataFrame, int]] = []
    record = _assistant_world(settings, monkeypatch, calls)
    for _ in range(2):
        rebuilt = reproduce._reproduce_assistant(settings, record, "assistant", "1", {}, tmp_path / "scratch")
        assert rebuilt.bit_exact
    assert [started for _, started in calls] == [0, 0], "the second rebuild resumed from the first one's checkpoints"


def test_an_assistant_is_rebuilt_from_its_recorded_qa_rows_not_todays(settings, tmp_path, monkeypatch) -> None:
    from ml_platform.lake import Lake

    calls: list[tuple[pd.DataFrame, int]] = []
    record = _assistant_world(settings, monkeypatch, calls)
    relanded = pd.DataFrame({"question": ["Where is my bill?"], "answer": ["Under Account."]})
    Lake.at(settings.lake_uri).write("support_qa", date(2026, 3, 12), relanded, {"source": "demo"})
    rebuilt = reproduce._reproduce_assistant(settings, record, "assistant", "1", {}, tmp_path / "scratch")
    assert calls[0][0]["question"].tolist() == ["How do I reset my router?"]
    assert any(line.startswith("changed data: support_qa/dt=2026-03-12") for line in rebuilt.why), rebuilt.why
    assert any("rebuilt from the recorded rows" in line for line in rebuilt.why), rebuilt.why


def _trained_record(settings, config, day) -> tuple[dict, dict[str, float]]:
    """A tabular version's record and test metrics, as the training pipeline logs them."""
    from ml_platform.lake import Lake
    from ml_platform.provenance import build_record
    from ml_platform.tabular.training import load_training_data, train_and_evaluate

    result = train_and_evaluate(load_training_data(Lake.at(settings.lake_uri), config, day), config)
    record = build_record(
        kind="tabular",
        model="churn",
        date=day.isoformat(),
        config=config.model_dump(mode="json"),
        config_hash="h",
        partitions=result.data.partitions,
        seeds={"model": config.model.seed},
        model_sha256=result.model_sha256,
        root=settings.project_root,
    )
    return record, {f"test_{k}": v for k, v in result.metrics.items()}


@pytest.fixture
def churn_version(settings) -> tuple:
    from ml_platform.config.tabular import load_model_config
    from ml_platform.datasets.churn import generate_churn
    from ml_platform.datasets.scenario import Scenario
    from ml_platform.lake import Lake

    day, lake = date(2026, 11, 20), Lake.at(settings.lake_uri)
    for offset in range(4, -1, -1):
        when = day - timedelta(days=offset)
        lake.write("churn", when, generate_churn(when, 1, Scenario(), rows=300, population=1000)[0])
    config = load_model_config("churn").for_run({"train_days": 4, "hyperparameters": {"n_estimators": 20}})
    return (lake, day, *_trained_record(settings, config, day))


def test_a_tabular_rebuild_trains_on_the_recorded_rows_not_todays(settings, tmp_path, churn_version) -> None:
    from ml_platform.datasets.churn import generate_churn
    from ml_platform.datasets.scenario import Scenario

    lake, day, record, metrics = churn_version
    lake.write("churn", day - timedelta(days=2), generate_churn(day, 99, Scenario(), rows=300)[0])  # replaced since
    lake.quarantine("churn", day, {"reason": "validation failed"})  # the evaluation day, moved aside
    rebuilt = reproduce._reproduce_tabular(settings, record, "churn-xgboost", "1", metrics, tmp_path / "scratch")
    assert rebuilt.bit_exact and rebuilt.reproduced
    # Both changes are named, with where the recorded rows came from.
    named = [line for line in rebuilt.why if "data" in line]
    assert [line.split(" was ")[0] for line in named] == [
        f"changed data: churn/dt={day - timedelta(days=2)}",
        f"changed data: churn/dt={day}",
    ]
    assert all(line.endswith("rebuilt from the recorded rows, which the lake keeps") for line in named)


def test_a_tabular_rebuild_names_recorded_rows_the_lake_no_longer_holds(settings, tmp_path, churn_version) -> None:
    *_, record, metrics = churn_version
    gone = {**record["partitions"][0], "content_hash": "0" * 16}
    record = {**record, "partitions": [gone, *record["partitions"][1:]]}
    rebuilt = reproduce._reproduce_tabular(settings, record, "churn-xgboost", "1", metrics, tmp_path / "scratch")
    assert not rebuilt.reproduced and not rebuilt.metrics
    assert f"partition churn dt={gone['dt']}: recorded hash {'0' * 16} no longer in the lake" in rebuilt.why
