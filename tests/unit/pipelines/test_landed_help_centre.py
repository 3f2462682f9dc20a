"""A real help centre landed as files (not the demo generator) goes through the same code: typed by its
schemas, indexed with a checked hit rate, and turned into fine-tuning examples where unanswerable questions
teach the prompt's abstain answer."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from ml_platform.config.assistant import load_assistant_config
from ml_platform.config.pipelines import load_ingest_config
from ml_platform.lake import Lake
from ml_platform.llm.examples import training_examples
from ml_platform.pipelines.ingest import ingest_step
from ml_platform.pipelines.retrieval import refresh_step
from ml_platform.retrieval.index import open_live_retriever
from ml_platform.run_context import RunContext

DAY = date(2026, 11, 20)
ARTICLES = [
    ("acme-1", "Parcel lockers", "delivery", "Parcels wait in a locker for 72 hours before they go back to the depot."),
    ("acme-2", "Gift cards", "billing", "Gift cards are valid for three years and can be topped up in any store."),
    ("acme-3", "Bike repairs", "service", "A standard bike service costs 40 euros and takes two working days."),
]
QA = [
    ("q1", "acme-1", "How long does a parcel stay in the locker?", "It waits 72 hours.", "true"),
    ("q2", "acme-2", "How long is a gift card valid?", "Three years.", "true"),
    ("q3", "acme-3", "What does a bike service cost?", "40 euros.", "true"),
    ("q4", "acme-3", "Do you repair e-scooters?", "Not covered here.", "false"),
]
EVAL = [
    ("e1", "Until when can I collect my parcel from the locker?", "72 hours.", "acme-1", "true"),
    ("e2", "Can I top up a gift card?", "Yes, in any store.", "acme-2", "true"),
    ("e3", "How long does a bike service take?", "Two working days.", "acme-3", "true"),
    ("e4", "Do you sell tents?", "I don't know.", "", "false"),
]


def land(tmp_path, table: str, columns: list[str], rows: list[tuple]) -> None:
    folder = tmp_path / "landing" / table
    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows, columns=columns).to_csv(folder / f"{DAY}.csv", index=False)


@pytest.fixture
def landed(settings, tmp_path):
    land(tmp_path, "support_kb", ["article_id", "title", "category", "body", "version", "updated_on"],
         [(*a, 1, "2026-11-01") for a in ARTICLES])  # fmt: skip
    land(tmp_path, "support_qa", ["qa_id", "article_id", "question", "answer", "answerable"], QA)
    land(tmp_path, "support_eval", ["question_id", "question", "gold_answer", "article_id", "answerable"], EVAL)
    land(tmp_path, "support_chats", ["chat_id", "ts", "customer_id", "channel", "question"],
         [("c1", f"{DAY} 10:00:00", "u1", "chat", "where is my parcel?")])  # fmt: skip
    group = load_ingest_config().groups["support"].for_run({"source": "landing"})
    return ingest_step(group, settings, RunContext(DAY, "local"))


def test_landed_tables_are_typed_by_their_schemas(landed, settings) -> None:
    lake = Lake.at(settings.lake_uri)
    qa, evaluation = lake.read("support_qa", DAY), lake.read("support_eval", DAY)
    assert qa["answerable"].tolist() == [True, True, True, False]
    assert evaluation["answerable"].dtype == bool and evaluation["article_id"].isna().tolist()[-1]
    assert lake.read("support_kb", DAY)["version"].dtype == "int64"
    assert {p["meta"]["source"] for p in landed["partitions"]} == {"landing"}


@pytest.mark.slow
def test_the_landed_help_centre_is_indexed_and_teaches_abstaining(landed, settings) -> None:
    config = load_assistant_config()
    ctx = RunContext(DAY, "scheduled", "scheduled__test", "kb_embedding_refresh")
    record = refresh_step(config, settings, ctx)
    assert record["promoted"] and record["hit_rate"] == 1.0 and record["chunks_total"] == 3
    qa = Lake.at(settings.lake_uri).read("support_qa", DAY)
    examples, stats = training_examples(qa, open_live_retriever(settings.vector_store_uri), config)
    by_question = {e.question: e for e in examples}
    assert by_question["Do you repair e-scooters?"].answer == config.prompt.abstain_answer
    assert by_question["What does a bike service cost?"].answer == "40 euros."
    assert "standard bike service" in by_question["What does a bike service cost?"].context
    assert stats["abstain_examples"] >= 1 and stats["qa_pairs"] == 4
