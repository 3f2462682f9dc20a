"""Trend charts as inline SVG, drawn on the server with matplotlib: the view works offline (no CDN, no script)
and a chart is text a browser test can read (`svg.fonttype: none` keeps labels as text, not glyph paths).
"""

from __future__ import annotations

import io
from datetime import date, timedelta
from typing import Any

# Each assistant rate with its colour; intervals are drawn as bands of the same colour.
_RATE_COLOURS = {"correctness": "tab:green", "hallucination_rate": "tab:red", "abstention_accuracy": "tab:purple"}


def _figure(panels: int):
    # Figure directly, not pyplot: no global figure registry and no GUI backend inside the api-server.
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 2.7 * panels), dpi=100)
    return fig, fig.subplots(panels, 1, sharex=True, squeeze=False)[:, 0]


def _frame_dates(ax, points: list[dict[str, Any]]) -> None:
    """A few days either side of a short history: matplotlib widens a single date to four years."""
    days = [date.fromisoformat(p["date"]) for p in points]
    if days and (max(days) - min(days)).days < 6:
        ax.set_xlim(min(days) - timedelta(days=3), max(days) + timedelta(days=3))


def _svg(fig) -> str:
    import matplotlib

    fig.autofmt_xdate()
    fig.tight_layout()
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "ml-ops"}):
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()


def _series(points: list[dict[str, Any]], field: str) -> tuple[list[date], list[float]]:
    rows = [(date.fromisoformat(p["date"]), p[field]) for p in points if p.get(field) is not None]
    return [d for d, _ in rows], [v for _, v in rows]


def _empty(ax, text: str) -> None:
    # Axes kept (not set_axis_off): with a shared date axis, the bottom panel carries the date labels.
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes)
    ax.set_yticks([])


def _drift_panel(ax, points: list[dict[str, Any]], label: str) -> None:
    days, values = _series(points, "drift")
    if not days:
        _empty(ax, "no drift checks recorded yet")
        return
    ax.plot(days, values, marker="o", markersize=3, color="tab:blue", label=label)
    t_days, thresholds = _series(points, "drift_threshold")
    # Markers too: a step line of a single day draws nothing.
    ax.plot(t_days, thresholds, "--", marker="_", markersize=14, color="tab:gray", label="threshold")
    over = [(d, v) for d, v, t in zip(days, values, thresholds, strict=False) if t is not None and v > t]
    if over:
        ax.scatter(*zip(*over, strict=True), s=50, marker="X", color="tab:red", zorder=3, label="over threshold")
    ax.set_ylim(0, max([*values, *thresholds, 0.01]) * 1.25)
    ax.set_ylabel(label)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=7)


def _with_drift(fig, bottom, points: list[dict[str, Any]], label: str) -> str:
    """A trend chart's lower panel (drift against its threshold) and shared date axis, then the SVG."""
    _drift_panel(bottom, points, label)
    _frame_dates(bottom, points)
    if not points:
        bottom.set_xticks([])
    return _svg(fig)


def tabular_trend_svg(trend: dict[str, Any]) -> str:
    """Primary metric per training date against the best AUC the demo generator allows, then drift share."""
    points, metric = trend["points"], trend["primary_metric"]
    fig, (top, bottom) = _figure(2)
    days, values = _series(points, "primary")
    if days:
        top.plot(days, values, marker="o", markersize=3, color="tab:green", label=f"challenger {metric}")
        best_days, best = _series(points, "best_auc")
        if best_days:
            top.plot(best_days, best, "--", marker="_", color="tab:orange", label="best achievable AUC (generator)")
        top.set_ylabel(metric)
        top.grid(alpha=0.3)
        top.legend(loc="lower left", fontsize=7)
    else:
        _empty(top, "no training recorded yet")
    top.set_title(f"{trend['model']}: {metric} per training date", loc="left", fontsize=10)
    return _with_drift(fig, bottom, points, "share of features drifted")


def assistant_trend_svg(trend: dict[str, Any]) -> str:
    """Each evaluated rate of the challenger per date with its 95% interval as an error bar, then question drift."""
    points = trend["points"]
    fig, (top, bottom) = _figure(2)
    drawn = False
    for rate, colour in _RATE_COLOURS.items():
        days, values = _series(points, rate)
        if not days:
            continue
        drawn = True
        top.plot(days, values, marker="o", markersize=3, color=colour, label=rate)
        bars = [
            (date.fromisoformat(p["date"]), p[rate], *p[f"{rate}_interval"])
            for p in points
            if p.get(f"{rate}_interval")
        ]
        if bars:
            b_days, mid, low, high = zip(*bars, strict=True)
            spread = [[m - lo for m, lo in zip(mid, low, strict=True)], [h - m for m, h in zip(mid, high, strict=True)]]
            top.errorbar(
                b_days, mid, yerr=spread, fmt="none", ecolor=colour, capsize=3, alpha=0.6, label=f"{rate} 95% interval"
            )
    if drawn:
        top.set_ylim(0, 1)
        top.set_ylabel("rate")
        top.grid(alpha=0.3)
        top.legend(loc="upper left", fontsize=7, ncol=2)
    else:
        _empty(top, "no evaluation recorded yet")
    top.set_title(f"{trend['model']}: challenger's rates per evaluation date", loc="left", fontsize=10)
    return _with_drift(fig, bottom, points, "question embedding drift")


def index_svg(index: dict[str, Any]) -> str:
    """Retrieval hit rate of every refresh against its floor, and the chunks indexed."""
    points = index["refreshes"][::-1]  # oldest first
    fig, (top, bottom) = _figure(2)
    days, hits = _series(points, "hit_rate")
    if not days:
        _empty(top, "no refresh recorded yet")
        _empty(bottom, "")
        bottom.set_xticks([])
        return _svg(fig)
    top.plot(days, hits, marker="o", markersize=3, color="tab:green", label=f"hit rate@{index['k']}")
    floor_days, floors = _series(points, "hit_rate_floor")
    top.plot(floor_days, floors, "--", marker="_", markersize=14, color="tab:gray", label="floor")
    top.set_ylim(0, 1.05)
    top.set_title("knowledge-base index: retrieval hit rate per refresh", loc="left", fontsize=10)
    top.grid(alpha=0.3)
    top.legend(loc="lower left", fontsize=7)
    chunk_days, chunks = _series(points, "chunks")
    bottom.step(chunk_days, chunks, where="mid", marker="o", markersize=3, color="tab:blue", label="chunks")
    bottom.set_ylim(0, max(chunks) * 1.15)
    bottom.set_ylabel("chunks")
    _frame_dates(bottom, points)
    bottom.grid(alpha=0.3)
    return _svg(fig)
