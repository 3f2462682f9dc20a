"""Helpers shared by the demo generators."""

from __future__ import annotations

import hashlib
from datetime import date

import numpy as np


def rng_for(seed: int, *keys: object) -> np.random.Generator:
    """A generator seeded by (seed, keys) through SHA-256, so results never depend on PYTHONHASHSEED."""
    digest = hashlib.sha256(repr((seed, *map(str, keys))).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def oracle_roc_auc(labels: np.ndarray, probabilities: np.ndarray) -> float | None:
    """ROC-AUC of the generator's true probabilities on the drawn labels: the best any model can expect."""
    from sklearn.metrics import roc_auc_score

    if len(np.unique(labels)) < 2:
        return None
    return round(float(roc_auc_score(labels, probabilities)), 6)


def day_index(day: date, epoch: date = date(2020, 1, 1)) -> int:
    return (day - epoch).days
