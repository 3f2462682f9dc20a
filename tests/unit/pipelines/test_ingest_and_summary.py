"""Ingestion of a day (demo and landing sources) and the summary rebuilt from what steps recorded."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from ml_platform import names
from ml_platform.config.pipelines import load_ingest_config
from ml_platform.datasets.scenario import load_demo_config
from ml_platform.errors import BadInput, PartitionMissing
from ml_platform.lake import Lake
from ml_platform.pipelines.ingest import ingest_step
from ml_platform.reports import Reports
from ml_platform.run_context import RunContext
from ml_platform.settings import Settings
from ml_platform.summary import build_summary, cell, markdown_table

DAY = date(2026, 11, 20)
GROUPS = load_ingest_config().groups


def ingest_group(group: str, day: date, settings: Settings, source: str, demo=None) -> dict:
    return ingest_step(GROUPS[group].for_run({"source": source}), settings, RunContext(day, "local"), demo)


def test_ingest_config_names_a_source_and_tables_for_every_group() -> None:
    config = load_ingest_config()
    assert list(config.groups) == ["churn", "fraud", "support"]
    assert all(g.source in ("demo", "landing") and g.tables for g in config.groups.values())
    assert config.schedule.count(" ") == 4


@pytest.mark.parametrize("group", list(GROUPS))
def test_demo_ingest_lands_every_table_of_the_group_and_records_it(group: str, settings: Settings) -> None:
    record = ingest_group(group, DAY, settings, "demo")
    lake = Lake.at(settings.lake_uri)
    assert [p["dataset"] for p in record["partitions"]] == list(GROUPS[group].tables)
    for partition in record["partitions"]:
        assert lake.exists(partition["dataset"], DAY)
        assert partition["rows"] == len(lake.read(partition["dataset"], DAY)) > 0
    stored = Reports.at(settings.reports_uri).read_json(names.INGEST, DAY, group)
    assert stored["partitions"] == record["partitions"]


def test_rerunning_a_date_is_idempotent_and_touches_no_other_date(settings: Settings) -> None:
    lake = Lake.at(settings.lake_uri)
    first = ingest_group("churn", DAY, settings, "demo")
    other = ingest_group("churn", date(2026, 11, 21), settings, "demo")
    again = ingest_group("churn", DAY, settings, "demo")
    assert again["partitions"][0]["content_hash"] == first["partitions"][0]["content_hash"]
    assert lake.info("churn", date(2026, 11, 21)).content_hash == other["partitions"][0]["content_hash"]
    assert lake.dates("churn") == [DAY, date(2026, 11, 21)]


def test_scenario_bad_data_is_injected_and_recorded(settings: Settings, monkeypatch) -> None:
    monkeypatch.setenv("DEMO_BAD_DATA", f"churn:{DAY}:duplicate_ids")
    record = ingest_group("churn", DAY, settings, "demo", load_demo_config(latest=DAY))
    frame = Lake.at(settings.lake_uri).read("churn", DAY)
    assert not frame["customerID"].is_unique
    assert record["partitions"][0]["meta"]["injected_bad_data"] == ["duplicate_ids"]
    _, summary = build_summary(settings.reports_uri, DAY)
    assert summary["sections"]["Ingestion"][0]["bad_data"] == "duplicate_ids"


PLANTED = r"@|\b4\d{3} \d{4} \d{4} \d{4}\b"  # the demo's planted e-mails and (Visa) card numbers


def _support_day(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> tuple[dict, pd.DataFrame]:
    monkeypatch.setenv("DEMO_SCALE", "1")  # 150 chats, a few with planted PII
    record = ingest_group("support", DAY, settings, "demo")
    return record, Lake.at(settings.lake_uri).read("support_chats", DAY)


def test_chats_land_with_pii_redacted_and_no_raw_copy_by_default(settings: Settings, monkeypatch) -> None:
    record, chats = _support_day(settings, monkeypatch)
    meta = next(p["meta"] for p in record["partitions"] if p["dataset"] == "support_chats")
    assert int(chats["contains_pii"].sum()) >= 5
    assert not chats["question"].str.contains(PLANTED).any()
    assert chats["question"].str.contains(r"\[(?:EMAIL|CARD|PHONE|ADDRESS)\]").sum() == chats["contains_pii"].sum()
    assert sum(n for kind, n in meta["guardrails"].items() if kind not in ("injection", "toxic")) >= 5
    assert not Path(settings.raw_uri).exists()


def test_raw_copy_is_kept_outside_the_lake_only_when_the_config_asks(
    settings: Settings, monkeypatch, tmp_path: Path
) -> None:
    configs = tmp_path / "configs"
    shutil.copytree(Path(settings.config_dir), configs)
    ingest_yaml = configs / "pipelines" / "ingest.yaml"
    ingest_yaml.write_text(ingest_yaml.read_text().replace("raw_copy: false", "raw_copy: true"))
    monkeypatch.setenv("PLATFORM_CONFIG_DIR", str(configs))
    _, chats = _support_day(settings, monkeypatch)
    raw = pd.read_parquet(Path(settings.raw_uri) / "support_chats" / f"dt={DAY}.parquet")
    assert list(raw.columns) == ["chat_id", "question"]
    assert raw["question"].str.contains(PLANTED).sum() >= 3
    assert not chats["question"].str.contains(PLANTED).any()


def test_landing_source_reads_and_types_dropped_files(settings: Settings, tmp_path) -> None:
    ingest_group("churn", DAY, settings, "demo")
    clean = Lake.at(settings.lake_uri).read("churn", DAY)
    landing = tmp_path / "landing" / "churn"
    landing.mkdir(parents=True)
    clean.astype(str).replace("nan", "").to_csv(landing / f"{DAY}.csv", index=False)
    record = ingest_group("churn", DAY, settings, "landing")
    landed = Lake.at(settings.lake_uri).read("churn", DAY)
    assert record["source"] == "landing"
    pd.testing.assert_frame_equal(landed, clean, check_dtype=False)


def test_landing_source_without_a_file_names_what_it_expected(settings: Settings) -> None:
    with pytest.raises(PartitionMissing, match=r"no landing file for fraud on 2026-11-20: expected .*fraud/2026-11-20"):
        ingest_group("fraud", DAY, settings, "landing")


def test_summary_is_rebuilt_from_records_and_stored_as_markdown_and_json(settings: Settings) -> None:
    for group in GROUPS:
        ingest_group(group, DAY, settings, "demo")
    markdown, payload = build_summary(settings.reports_uri, DAY)
    assert f"# Nightly run summary for {DAY}" in markdown
    assert "## Ingestion" in markdown
    tables = [row["table"] for row in payload["sections"]["Ingestion"]]
    assert tables == ["churn", "fraud", "support_kb", "support_qa", "support_eval", "support_chats"]
    churn = payload["sections"]["Ingestion"][0]
    assert 0.05 < churn["label_rate"] < 0.6 and churn["best_auc"] > 0.7
    stored = Reports.at(settings.reports_uri)
    assert stored.store.get(f"summary/{DAY}/summary.md").decode() in markdown


def test_summary_of_a_day_without_records_says_so(settings: Settings) -> None:
    markdown, payload = build_summary(settings.reports_uri, DAY)
    assert "No step has recorded anything" in markdown and payload["sections"] == {}


def test_markdown_table_aligns_columns() -> None:
    table = markdown_table([{"a": 1, "b": 0.123456}, {"a": 22, "c": None}])
    assert table.splitlines() == [
        "| a  | b      | c |",
        "| -- | ------ | - |",
        "| 1  | 0.1235 | - |",
        "| 22 | -      | - |",
    ]


def test_cells_round_for_people_and_the_json_keeps_full_precision() -> None:
    assert [cell(v) for v in (309.1875, 1234567.8, 2.3456, 0.87345, 0.00012, 0.0, None, True, 3)] == [
        "309",
        "1,234,568",
        "2.35",
        "0.8734",
        "0.00012",
        "0",
        "-",
        "True",
        "3",
    ]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "cannot be read as csv"),
        (b"customerID,gender\n", "holds no rows"),
        ("customerID,gender\n7590-VHVEG,Fémale\n".encode("latin-1"), "is not UTF-8 text"),
    ],
    ids=["empty", "header-only", "not-utf8"],
)
def test_a_bad_landing_file_is_refused_by_name_without_retries(settings: Settings, tmp_path, content, problem) -> None:
    from ml_platform.errors import BadInput

    folder = tmp_path / "landing" / "churn"
    folder.mkdir(parents=True)
    (folder / f"{DAY}.csv").write_bytes(content)
    with pytest.raises(BadInput, match=problem) as refused:
        ingest_group("churn", DAY, settings, "landing")
    assert f"churn/{DAY}.csv" in str(refused.value) and refused.value.retryable is False
    assert not Lake.at(settings.lake_uri).exists("churn", DAY)


def test_a_landed_support_flag_is_parsed_by_its_schema_not_by_truthiness(settings: Settings, tmp_path) -> None:
    folder = tmp_path / "landing" / "support_qa"
    folder.mkdir(parents=True)
    pd.DataFrame(
        {
            "qa_id": ["a", "b"],
            "article_id": ["k1", "k1"],
            "question": ["q?", "r?"],
            "answer": ["x", "y"],
            "answerable": ["True", "False"],
        }
    ).to_csv(folder / f"{DAY}.csv", index=False)
    from ml_platform.datasets.sources import landing_tables

    group = GROUPS["support"].model_copy(update={"tables": ("support_qa",)})
    frame, _ = landing_tables(group, DAY, settings.landing_uri)["support_qa"]
    assert frame["answerable"].tolist() == [True, False]


def test_an_ingest_refused_for_one_table_writes_no_table(settings: Settings) -> None:
    lake = Lake.at(settings.lake_uri)
    *written_first, refused = GROUPS["support"].tables
    lake.write(refused, DAY, pd.DataFrame({"x": [1]}), {"source": "import", "file": "/data/export.csv"})
    with pytest.raises(BadInput, match=rf"{refused}/dt={DAY} .* came from 'import' \(/data/export.csv\); refusing"):
        ingest_group("support", DAY, settings, "demo")
    assert not [t for t in written_first if lake.exists(t, DAY)], "tables before the refused one were replaced"
