"""`reproduce` of a fine-tuned assistant version is a real rebuild every time: a second reproduce into the same
scratch folder does not resume from the checkpoints the first one left there."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd

from ml_platform.config.assistant import load_assistant_config
from ml_platform.pipelines import reproduce


class FakeStore:
    def list_indexes(self) -> list[str]:
        return ["kb_20260312"]

    def close(self) -> None:
        pass


def test_a_second_reproduce_of_an_assistant_starts_from_step_zero(settings, tmp_path, monkeypatch) -> None:
    started_at: list[int] = []

    def finetune(model, tokenizer, examples, config, prompt, checkpoints, workdir):
        started_at.append(checkpoints.latest_step())
        checkpoints.store.put(f"{checkpoints.prefix}/step-000002/state.json", b"{}")  # as a finished run leaves
        return SimpleNamespace(history=[1.0, 0.5], adapter_dir=workdir / "adapter")

    lake = SimpleNamespace(load=lambda table, day: (pd.DataFrame(), SimpleNamespace(as_dict=dict)))
    monkeypatch.setattr(reproduce.Lake, "at", lambda uri: lake)
    monkeypatch.setattr(reproduce, "_inputs_now", lambda settings, partitions: {})
    monkeypatch.setattr(reproduce, "explain_differences", lambda record, now: [])
    monkeypatch.setattr(reproduce, "sha256_files", lambda folder, names: "adapter-sha")
    monkeypatch.setattr("ml_platform.llm.base.resolve_base_model", lambda config, s: SimpleNamespace(sha256="b"))
    monkeypatch.setattr("ml_platform.llm.base.load_base", lambda base: (None, None))
    monkeypatch.setattr("ml_platform.llm.examples.training_examples", lambda qa, retriever, config: ([], {}))
    monkeypatch.setattr("ml_platform.llm.finetune.finetune", finetune)
    monkeypatch.setattr("ml_platform.retrieval.stores.open_vector_store", lambda uri: FakeStore())
    monkeypatch.setattr("ml_platform.retrieval.index.Retriever", lambda store, name: store)
    record = {
        "config": load_assistant_config().model_dump(mode="json"),
        "date": "2026-03-12",
        "base_model_sha256": "b",
        "index_version": "kb_20260312",
        "model_sha256": "adapter-sha",
    }
    for _ in range(2):
        rebuilt = reproduce._reproduce_assistant(settings, record, "assistant", "1", {}, tmp_path / "scratch")
        assert rebuilt.bit_exact
    assert started_at == [0, 0], "the second rebuild resumed from the first one's checkpoints"
