"""Wilson intervals of a share of labelled cases; bootstrap 95% confidence intervals of per-question metrics, and of paired differences between two models.

Every model of a night answers the same questions, so two models are compared on their per-question
differences (a paired bootstrap): much tighter than comparing two separate intervals, and the honest test for
"credibly better" or "credibly worse". scipy's percentile bootstrap does the resampling, seeded from config, so
the same answers always give the same interval.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

LEVEL = 0.95
RESAMPLES = 2000


def interval(values: Sequence[float], seed: int) -> tuple[float, float, float]:
    """(mean, low, high) of the values' mean; NaNs when there are none."""
    data = np.asarray(values, dtype=float)
    if data.size == 0:
        return float("nan"), float("nan"), float("nan")
    mean = float(data.mean())
    if np.all(data == data[0]):  # no spread: resampling cannot move the mean (and scipy would warn)
        return mean, mean, mean
    from scipy.stats import bootstrap

    result = bootstrap(
        (data,),
        np.mean,
        n_resamples=RESAMPLES,
        confidence_level=LEVEL,
        method="percentile",
        rng=np.random.default_rng(seed),
    )
    low, high = result.confidence_interval
    return mean, float(low), float(high)


def paired_difference(new: Sequence[float], old: Sequence[float], seed: int) -> tuple[float, float, float]:
    """(mean, low, high) of new - old over the same questions."""
    a, b = np.asarray(new, dtype=float), np.asarray(old, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"paired values must line up question by question ({a.shape} vs {b.shape})")
    return interval(a - b, seed)


def wilson(hits: int, n: int) -> dict[str, Any]:
    """A share of labelled cases with its Wilson 95% interval (the detectors' reports)."""
    if n == 0:
        return {"n": 0, "hits": 0, "rate": None, "ci95": None}
    from scipy.stats import binomtest

    ci = binomtest(hits, n).proportion_ci(LEVEL, method="wilson")
    return {"n": n, "hits": hits, "rate": hits / n, "ci95": [round(ci.low, 3), round(ci.high, 3)]}


def format_share(share: dict[str, Any]) -> str:
    """ "0.950 (19/20, 95% CI 0.76-0.99)", or "n/a" for a share of nothing."""
    if share["rate"] is None:
        return "n/a"
    low, high = share["ci95"]
    return f"{share['rate']:.3f} ({share['hits']}/{share['n']}, 95% CI {low:.2f}-{high:.2f})"
