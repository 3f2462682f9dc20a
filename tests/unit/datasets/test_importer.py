"""Bring-your-own-data import: a Telco-style CSV with real quirks lands in partitions, losses reported."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from ml_platform.datasets.churn import generate_churn
from ml_platform.datasets.importer import import_file
from ml_platform.datasets.scenario import Scenario
from ml_platform.errors import BadInput, ConfigError
from ml_platform.lake import Lake


def telco_csv(path: Path, rows: int = 120) -> pd.DataFrame:
    """Write a CSV the way the public Telco export looks: TotalCharges as text, blank for new customers."""
    frame, _ = generate_churn(date(2026, 1, 5), 11, Scenario(), rows=rows, population=1000)
    text = frame.astype(str)
    text["TotalCharges"] = frame["TotalCharges"].map(lambda v: " " if pd.isna(v) else f"{v:.2f}")
    text.loc[3, "MonthlyCharges"] = "n/a"
    text.loc[4, "Contract"] = "Three year"
    text.to_csv(path, index=False)
    return frame


def test_csv_import_deals_rows_over_the_dates_and_reports_what_it_could_not_read(tmp_path: Path) -> None:
    original = telco_csv(tmp_path / "telco.csv")
    lake = Lake.at(str(tmp_path / "lake"))
    result = import_file(tmp_path / "telco.csv", "churn", "2026-11-01", "2026-11-04", lake)
    assert [p.dt for p in result.partitions] == [date(2026, 11, d) for d in range(1, 5)]
    assert sum(p.rows for p in result.partitions) == len(original)
    window = lake.read_window("churn", "2026-11-01", "2026-11-04")
    assert window["tenure"].dtype.kind == "i" and window["TotalCharges"].dtype.kind == "f"
    assert window["SeniorCitizen"].isin([0, 1]).all()
    report = result.report
    assert report.unparseable["MonthlyCharges"]["count"] == 1
    assert report.unparseable["MonthlyCharges"]["examples"] == ["n/a"]
    assert report.unparseable["TotalCharges"]["blank"] == original["TotalCharges"].isna().sum()
    assert report.unknown_categories["Contract"] == {"Three year": 1}
    text = "\n".join(result.lines())
    assert "MonthlyCharges: 1 value(s) not readable as float" in text
    assert lake.metadata("churn", "2026-11-02")["source"] == "import"


def test_import_splits_by_a_date_column_and_skips_rows_outside_the_range(tmp_path: Path) -> None:
    frame, _ = generate_churn(date(2026, 1, 5), 11, Scenario(), rows=60, population=500)
    frame["snapshot"] = ["2026-10-31", "2026-11-01", "2026-11-02"] * 20
    frame.to_parquet(tmp_path / "churn.parquet")
    lake = Lake.at(str(tmp_path / "lake"))
    result = import_file(tmp_path / "churn.parquet", "churn", "2026-11-01", "2026-11-02", lake, date_column="snapshot")
    assert result.skipped_rows_outside_range == 20
    assert [p.rows for p in result.partitions] == [20, 20]
    assert "snapshot" in result.report.extra_columns


def test_missing_columns_stop_the_import_and_name_them(tmp_path: Path) -> None:
    pd.DataFrame({"customerID": ["0001-ABCDE"], "Churn": ["No"]}).to_csv(tmp_path / "thin.csv", index=False)
    lake = Lake.at(str(tmp_path / "lake"))
    with pytest.raises(ValueError, match="MISSING required columns: gender, SeniorCitizen"):
        import_file(tmp_path / "thin.csv", "churn", "2026-11-01", "2026-11-01", lake)
    assert lake.dates("churn") == []


def test_bad_arguments_are_clear(tmp_path: Path) -> None:
    lake = Lake.at(str(tmp_path / "lake"))
    with pytest.raises(FileNotFoundError):
        import_file(tmp_path / "nope.csv", "churn", "2026-11-01", "2026-11-02", lake)
    (tmp_path / "x.json").write_text("{}")
    with pytest.raises(ValueError, match="unsupported file type"):
        import_file(tmp_path / "x.json", "churn", "2026-11-01", "2026-11-02", lake)
    with pytest.raises(ConfigError, match="no schema for dataset 'orders'"):
        import_file(tmp_path / "x.json", "orders", "2026-11-01", "2026-11-02", lake)


def test_an_import_refused_for_one_day_writes_no_day(tmp_path: Path) -> None:
    telco_csv(tmp_path / "telco.csv")
    lake = Lake.at(str(tmp_path / "lake"))
    landed = generate_churn(date(2026, 11, 3), 1, Scenario(), rows=10, population=100)[0]
    lake.write("churn", "2026-11-03", landed, {"source": "landing"})
    with pytest.raises(BadInput, match=r"churn/dt=2026-11-03 .* came from 'landing'; refusing"):
        import_file(tmp_path / "telco.csv", "churn", "2026-11-01", "2026-11-04", lake)
    assert lake.dates("churn") == [date(2026, 11, 3)], "days before the refused one were written"
    result = import_file(tmp_path / "telco.csv", "churn", "2026-11-01", "2026-11-04", lake, replace_other_source=True)
    assert len(result.partitions) == 4 and [v["source"] for v in lake.versions("churn", "2026-11-03")] == ["landing"]
