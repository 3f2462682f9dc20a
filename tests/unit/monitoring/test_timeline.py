"""Drift timeline: the table from stored drift records, its PNG, and detection delay / false alarm counts."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from ml_platform.monitoring.timeline import alarm_summary, drift_timeline, timeline_plot

START = date(2026, 3, 1)
ONSET = date(2026, 3, 8)


def record(model: str, day: date, share: float, *, prediction_drifted: bool = False, auc: float | None = 0.8,
           threshold: float = 0.1) -> dict[str, Any]:  # fmt: skip
    """The shape of DriftResult.as_dict(), with only what a timeline reads filled in meaningfully."""
    drifted = share >= threshold or prediction_drifted
    return {
        "model": model,
        "day": day.isoformat(),
        "reference_days": [],
        "rows_reference": 1000,
        "rows_current": 200,
        "features": [],
        "share_drifted": share,
        "share_threshold": threshold,
        "drifted_features": ["f"] * round(share * 10),
        "prediction_drift": {
            "column": "prediction",
            "test": "Wasserstein distance (normed)",
            "score": 0.5 if prediction_drifted else 0.02,
            "threshold": 0.1,
            "drifted": prediction_drifted,
        },
        "target_drift": None,
        "live_quality": None if auc is None else {"roc_auc": auc, "pr_auc": 0.4, "positive_rate": 0.2},
        "verdict": "drifted" if drifted else "stable",
        "drifted": drifted,
        "reasons": [],
    }


@pytest.fixture
def records() -> list[dict[str, Any]]:
    out = []
    for i in range(14):
        day = START + timedelta(days=i)
        after = day >= ONSET
        # churn: one false alarm on day 3, detected on the onset day itself.
        out.append(record("churn", day, 0.2 if after or i == 3 else 0.0))
        # fraud: features never cross the threshold; the score drift flags it two days after the onset.
        out.append(record("fraud", day, 0.0, prediction_drifted=day >= ONSET + timedelta(days=2), auc=None))
    return out


def test_timeline_table(records: list[dict[str, Any]]) -> None:
    table = drift_timeline(list(reversed(records)))
    assert len(table) == 28
    assert list(table["model"].unique()) == ["churn", "fraud"]  # sorted by model, then day
    churn = table[table["model"] == "churn"]
    assert churn["day"].is_monotonic_increasing
    assert churn["day"].iloc[0].date() == START
    assert {"day", "model", "verdict", "share_drifted", "prediction_drift_score", "roc_auc"} <= set(table.columns)
    assert churn["roc_auc"].eq(0.8).all()
    assert table.loc[table["model"] == "fraud", "roc_auc"].isna().all()  # no labels: NaN, not an error
    assert table.loc[table["model"] == "fraud", "prediction_drift_score"].max() == 0.5


def test_timeline_keeps_the_last_record_of_a_rechecked_day(records: list[dict[str, Any]]) -> None:
    rerun = record("churn", START, 0.5)
    table = drift_timeline([*records, rerun])
    first = table[(table["model"] == "churn") & (table["day"].dt.date == START)]
    assert len(first) == 1 and first["verdict"].item() == "drifted"


def test_timeline_plot_is_a_png(records: list[dict[str, Any]], tmp_path: Path) -> None:
    path = tmp_path / "timeline.png"
    png = timeline_plot(drift_timeline(records), ONSET, path)
    assert png.startswith(b"\x89PNG")
    assert path.read_bytes() == png
    from matplotlib.image import imread

    height, width, _ = imread(io.BytesIO(png), format="png").shape
    assert height > width / 2  # one panel per model, stacked


def test_timeline_plot_without_records_or_onset() -> None:
    assert timeline_plot(drift_timeline([]), None).startswith(b"\x89PNG")


def test_alarm_summary(records: list[dict[str, Any]]) -> None:
    summary = alarm_summary(drift_timeline(records), ONSET)
    churn, fraud = summary["churn"], summary["fraud"]
    assert churn["first_drifted_day"] == "2026-03-04"
    assert churn["first_detection_day"] == ONSET.isoformat()
    assert churn["detection_delay_days"] == 0
    assert churn["false_alarms"] == 1 and churn["false_alarm_days"] == ["2026-03-04"]
    assert churn["days_after_onset"] == churn["drifted_days_after_onset"] == 7
    assert fraud["detection_delay_days"] == 2 and fraud["false_alarms"] == 0
    assert fraud["first_drifted_day"] == fraud["first_detection_day"] == "2026-03-10"
    json.dumps(summary)  # goes into the nightly summary as is


def test_alarm_summary_without_onset_counts_every_alarm_as_false(records: list[dict[str, Any]]) -> None:
    summary = alarm_summary(drift_timeline(records), None)
    assert summary["churn"]["false_alarms"] == 8
    assert summary["churn"]["detection_delay_days"] is None and not summary["churn"]["detected"]


def test_alarm_summary_when_drift_is_missed() -> None:
    missed = [record("churn", START + timedelta(days=i), 0.0) for i in range(10)]
    summary = alarm_summary(drift_timeline(missed), ONSET)["churn"]
    assert summary["detected"] is False and summary["first_detection_day"] is None
    assert summary["days_after_onset"] == 3 and summary["false_alarms"] == 0
