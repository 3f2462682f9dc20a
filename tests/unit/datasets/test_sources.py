"""Landed files are refused for what they really hold: an unreadable value by column, row and value (never
called blank), and no column reported as "ignored" in a file that was refused."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from ml_platform.config.pipelines import load_ingest_config
from ml_platform.datasets.churn import generate_churn
from ml_platform.datasets.scenario import Scenario
from ml_platform.datasets.sources import landing_tables
from ml_platform.errors import BadInput

DAY = date(2026, 11, 20)
GROUPS = load_ingest_config().groups
KB = {"article_id": ["kb-1", "kb-2"], "title": ["a", "b"], "category": ["x", "x"], "body": ["b1", "b2"]}


def land(tmp_path: Path, table: str, frame: pd.DataFrame) -> str:
    folder = tmp_path / "landing" / table
    folder.mkdir(parents=True)
    frame.to_csv(folder / f"{DAY}.csv", index=False)
    return str(tmp_path / "landing")


def refusal(tmp_path: Path, group: str, table: str, frame: pd.DataFrame) -> str:
    landing = land(tmp_path, table, frame)
    with pytest.raises(BadInput, match="refused") as refused:
        landing_tables(GROUPS[group].model_copy(update={"tables": (table,)}), DAY, landing)
    return str(refused.value)


def test_an_unreadable_value_in_a_labelled_table_refuses_the_file(tmp_path: Path) -> None:
    frame = generate_churn(DAY, 1, Scenario(), rows=50, population=200)[0].astype({"tenure": "object"})
    frame.loc[1, "tenure"] = "twelve"
    assert "tenure: 1 value(s) not readable as int (row 2: 'twelve')" in refusal(tmp_path, "churn", "churn", frame)


def test_an_unreadable_value_in_an_unlabelled_table_is_not_called_blank(tmp_path: Path) -> None:
    frame = pd.DataFrame(KB | {"version": ["1", "v2"], "updated_on": ["2026-11-20"] * 2})
    message = refusal(tmp_path, "support", "support_kb", frame)
    assert "version: 1 value(s) not readable as int (row 2: 'v2')" in message and "blank" not in message


def test_a_refused_file_ignores_no_column(tmp_path: Path) -> None:
    frame = pd.DataFrame(KB | {"version": ["1", "2"], "updated": ["2026-11-20"] * 2})  # updated_on renamed
    message = refusal(tmp_path, "support", "support_kb", frame)
    assert "MISSING required columns: updated_on" in message and "not in the support_kb schema: updated" in message
    assert "ignored" not in message
