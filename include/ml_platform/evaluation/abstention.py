"""The retrieval-score threshold under which the assistant abstains without generating.

An unanswerable question still retrieves k passages, but the best of them matches it less well than the
passage that answers an answerable one does. The threshold is set from data: the highest score that turns away
at most `max_false_abstention` of the answerable questions of a tuning set, then judged on another set it was
not set on (`ml-platform calibrate-abstention` does both and prints the figures).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import numpy as np


def choose_threshold(answerable: Sequence[float], max_false_abstention: float) -> float:
    """The largest threshold below which no more than `max_false_abstention` of answerable top scores fall."""
    scores = np.sort(np.asarray(answerable, dtype=float))
    if scores.size == 0:
        raise ValueError("no answerable questions to set the threshold on")
    allowed = int(np.floor(max_false_abstention * scores.size))  # how many may fall under the threshold
    return float(scores[allowed])  # scores[:allowed] fall below it; rounding down keeps the share within bound


def rates(threshold: float, answerable: Sequence[float], unanswerable: Sequence[float]) -> dict[str, Any]:
    """What the threshold does: answerable questions wrongly turned away, unanswerable ones rightly."""
    a, u = np.asarray(answerable, dtype=float), np.asarray(unanswerable, dtype=float)
    return {
        "threshold": round(threshold, 4),
        "false_abstention_rate": float(np.mean(a < threshold)) if a.size else float("nan"),
        "abstention_on_unanswerable": float(np.mean(u < threshold)) if u.size else float("nan"),
        "answerable": int(a.size),
        "unanswerable": int(u.size),
    }


def split_half(scored: Sequence[tuple[str, float, bool]], part: int) -> tuple[list[float], list[float]]:
    """(answerable, unanswerable) scores of one half of the questions, halved by a hash of their text: the
    same question always falls in the same half, whatever the seed or the day."""
    mine = [(s, a) for q, s, a in scored if hashlib.sha256(q.encode()).digest()[0] % 2 == part]
    return [s for s, a in mine if a], [s for s, a in mine if not a]
