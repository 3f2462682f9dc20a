"""Drift over time: a table of daily drift verdicts per model, its picture, and how early the alarms came.

The inputs are `DriftResult.as_dict()` records as the monitoring task stores them, so the timeline can be
rebuilt from the report store alone, without rerunning Evidently.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

TIMELINE_COLUMNS = [
    "day",
    "model",
    "verdict",
    "drifted",
    "share_drifted",
    "share_threshold",
    "n_drifted_features",
    "prediction_drift_score",
    "prediction_drift_threshold",
    "prediction_drifted",
    "roc_auc",
]


def _number(value: Any) -> float:
    return float(value) if value is not None else float("nan")


def drift_timeline(records: list[dict[str, Any]]) -> pd.DataFrame:
    """One row per (model, day), sorted; a day checked twice (a retried task) keeps its last record."""
    rows = []
    for record in records:
        prediction: Mapping[str, Any] = record.get("prediction_drift") or {}
        quality: Mapping[str, Any] = record.get("live_quality") or {}
        verdict = str(record["verdict"])
        rows.append(
            {
                "day": pd.Timestamp(record["day"]).normalize(),
                "model": str(record["model"]),
                "verdict": verdict,
                "drifted": verdict == "drifted",
                "share_drifted": _number(record.get("share_drifted")),
                "share_threshold": _number(record.get("share_threshold")),
                "n_drifted_features": len(record.get("drifted_features") or []),
                "prediction_drift_score": _number(prediction.get("score")),
                "prediction_drift_threshold": _number(prediction.get("threshold")),
                "prediction_drifted": bool(prediction.get("drifted", False)),
                "roc_auc": _number(quality.get("roc_auc")),
            }
        )
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in TIMELINE_COLUMNS}).astype(
            {"day": "datetime64[ns]", "drifted": "bool", "share_drifted": "float64"}
        )
    table = pd.DataFrame(rows, columns=TIMELINE_COLUMNS)
    table = table.drop_duplicates(subset=["model", "day"], keep="last")
    return table.sort_values(["model", "day"], kind="stable").reset_index(drop=True)


def timeline_plot(timeline: pd.DataFrame, onset: date | None, path_or_none: str | Path | None = None) -> bytes:
    """PNG: one panel per model with the daily share of drifted features, the share threshold, the known drift
    onset and the days whose verdict was "drifted" (also those raised by prediction drift alone)."""
    # Figure directly, not pyplot: no global figure registry and no GUI backend inside a worker process.
    from matplotlib.figure import Figure

    models = list(dict.fromkeys(timeline["model"])) if len(timeline) else []
    fig = Figure(figsize=(9, 2.6 * max(1, len(models))), dpi=100)
    axes = fig.subplots(max(1, len(models)), 1, sharex=True, squeeze=False)[:, 0]
    if not models:
        axes[0].text(0.5, 0.5, "no drift checks yet", ha="center", va="center", transform=axes[0].transAxes)
        axes[0].set_axis_off()
    for ax, model in zip(axes, models, strict=False):
        rows = timeline[timeline["model"] == model].sort_values("day")
        ax.plot(rows["day"], rows["share_drifted"], marker="o", markersize=3, color="tab:blue", label="share drifted")
        thresholds = rows["share_threshold"].dropna()
        if len(thresholds):
            # Thresholds may change over time (re-tuned): draw what each day was judged against.
            ax.step(
                rows["day"],
                rows["share_threshold"],
                where="mid",
                linestyle="--",
                color="tab:gray",
                label="share threshold",
            )
        drifted = rows[rows["drifted"]]
        if len(drifted):
            ax.scatter(
                drifted["day"],
                drifted["share_drifted"],
                s=60,
                marker="X",
                color="tab:red",
                zorder=3,
                label='verdict "drifted"',
            )
        if onset is not None:
            ax.axvline(pd.Timestamp(onset), color="tab:orange", linestyle=":", linewidth=2, label="known drift onset")
        top = np.nanmax([*rows["share_drifted"].to_numpy(dtype=float), *thresholds.to_numpy(dtype=float), 0.05])
        ax.set_ylim(0, min(1.0, top * 1.25 + 0.02))
        ax.set_ylabel("share drifted")
        ax.set_title(model, loc="left", fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left", fontsize=7)
    fig.autofmt_xdate()
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    png = buffer.getvalue()
    if path_or_none is not None:
        Path(path_or_none).write_bytes(png)
    return png


def alarm_summary(timeline: pd.DataFrame, onset: date | None) -> dict[str, dict[str, Any]]:
    """Per model: the first drifted day, the delay from the known onset to the first alarm on or after it, and
    the false alarms before it. Without an onset, every drifted day is a false alarm (no drift was planted)."""
    start = pd.Timestamp(onset) if onset is not None else None
    out: dict[str, dict[str, Any]] = {}
    for model in dict.fromkeys(timeline["model"]):
        rows = timeline[timeline["model"] == model].sort_values("day")
        drifted_days = rows.loc[rows["drifted"], "day"]
        before = drifted_days if start is None else drifted_days[drifted_days < start]
        after = drifted_days.iloc[0:0] if start is None else drifted_days[drifted_days >= start]
        checked_after = 0 if start is None else int((rows["day"] >= start).sum())
        first_detection = after.iloc[0] if len(after) else None
        out[model] = {
            "days_checked": len(rows),
            "first_drifted_day": drifted_days.iloc[0].date().isoformat() if len(drifted_days) else None,
            "first_detection_day": first_detection.date().isoformat() if first_detection is not None else None,
            "detection_delay_days": (first_detection - start).days if first_detection is not None else None,
            "detected": first_detection is not None,
            "days_after_onset": checked_after,
            "drifted_days_after_onset": len(after),
            "false_alarms": len(before),
            "false_alarm_days": [d.date().isoformat() for d in before],
        }
    return out
