"""Demo fraud data: one day of card transactions with velocity features from each customer's history.

Velocity features (counts and sums over the last hour and day, time since the last transaction) are
computed over the previous day's transactions too, so a day is still a pure function of (seed, date).
Fraud is drawn from a known logistic model of observable features, and compromised cards produce bursts of
foreign, online, high-value transactions; the best achievable ROC-AUC is therefore known for every day.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import cache
from typing import Any

import numpy as np
import pandas as pd

from ml_platform.datasets.common import oracle_roc_auc, rng_for, sigmoid

CATEGORIES = np.array(
    [
        "grocery",
        "gas_transport",
        "restaurants",
        "online_retail",
        "electronics",
        "travel",
        "entertainment",
        "health",
        "jewelry",
        "digital_goods",
    ]
)
CATEGORY_P = np.array([0.24, 0.14, 0.16, 0.14, 0.05, 0.04, 0.08, 0.09, 0.02, 0.04])
CATEGORY_SCALE = np.array([45, 40, 30, 60, 250, 400, 35, 70, 500, 20], dtype=float)
CHANNELS = np.array(["card_present", "contactless", "online", "atm"])
HOME = np.array(["US", "CA", "MX", "GB", "DE", "FR", "ES", "IT", "NL"])
ABROAD = np.array(["US", "CA", "MX", "GB", "DE", "FR", "ES", "IT", "NL", "BR", "NG", "IN", "CN", "RU", "RO", "UA"])
RISKY_COUNTRIES = ["NG", "RU", "RO", "UA", "CN", "BR"]
RISKY_CATEGORIES = ["electronics", "jewelry", "digital_goods", "online_retail"]
INTERCEPT = -8.7


@cache
def _customers(seed: int, size: int) -> pd.DataFrame:
    rng = rng_for(seed, "fraud-customers", size)
    return pd.DataFrame(
        {
            "customer_id": [f"c{i:06d}" for i in range(size)],
            "home": rng.choice(HOME, size=size, p=[0.62, 0.08, 0.04, 0.07, 0.06, 0.05, 0.03, 0.03, 0.02]),
            "avg_amount": np.exp(rng.normal(3.6, 0.5, size=size)),
            "activity": rng.gamma(2.0, 1.0, size=size),
            "online_share": rng.beta(2, 5, size=size),
        }
    )


def _raw_day(day: date, seed: int, rows: int, customers: pd.DataFrame, merchants: int, drifted: bool) -> pd.DataFrame:
    """Transactions of one day before velocity features and labels; depends only on (seed, day)."""
    rng = rng_for(seed, "fraud-day", day.isoformat())
    n_bursts = max(1, rows // 800)
    normal_rows = rows - n_bursts * 6
    weights = customers["activity"].to_numpy() / customers["activity"].sum()
    who = rng.choice(len(customers), size=normal_rows, p=weights)
    cust = customers.iloc[who].reset_index(drop=True)
    # Daytime-heavy clock: most spending between 8:00 and 22:00.
    seconds = np.clip(rng.normal(15 * 3600, 4 * 3600, size=normal_rows), 0, 86_399)
    category = rng.choice(len(CATEGORIES), size=normal_rows, p=CATEGORY_P)
    online = rng.random(normal_rows) < cust["online_share"].to_numpy() * (1.6 if drifted else 1.0)
    channel = np.where(online, 2, rng.choice([0, 1, 3], size=normal_rows, p=[0.5, 0.45, 0.05]))
    abroad = rng.random(normal_rows) < 0.03
    frame = pd.DataFrame(
        {
            "customer_idx": who,
            "seconds": seconds,
            "merchant_category": CATEGORIES[category],
            "amount": cust["avg_amount"].to_numpy()
            * CATEGORY_SCALE[category]
            / 45
            * rng.lognormal(0, 0.6, normal_rows),
            "channel": CHANNELS[channel],
            "country": np.where(abroad, rng.choice(ABROAD, size=normal_rows), cust["home"].to_numpy()),
            "distance_from_home_km": np.where(
                abroad, rng.uniform(300, 9000, normal_rows), rng.lognormal(1.5, 1.0, normal_rows)
            ),
            "device_change": (rng.random(normal_rows) < np.where(online, 0.04, 0.0)).astype(int),
        }
    )
    return pd.concat([frame, _bursts(rng, n_bursts, customers, drifted)], ignore_index=True).assign(
        merchant_id=lambda f: [f"m{x:05d}" for x in rng.integers(0, merchants, size=len(f))],
        day=day,
    )


def _bursts(rng: np.random.Generator, count: int, customers: pd.DataFrame, drifted: bool) -> pd.DataFrame:
    """Compromised cards: rapid online spending, usually abroad, on a new device."""
    per = 6
    who = np.repeat(rng.choice(len(customers), size=count, replace=False), per)
    start = np.repeat(rng.uniform(0, 80_000, size=count), per)
    seconds = np.clip(start + np.tile(np.arange(per), count) * rng.uniform(60, 900, size=count * per), 0, 86_399)
    # After the onset fraudsters switch to small domestic contactless tests (concept drift).
    contactless = rng.random(count * per) < (0.6 if drifted else 0.1)
    home = customers["home"].to_numpy()[who]
    foreign = ~contactless & (rng.random(count * per) < 0.7)
    category = np.where(contactless, "grocery", rng.choice(RISKY_CATEGORIES, size=count * per))
    amount = np.where(contactless, rng.uniform(1, 25, count * per), rng.lognormal(5.3, 0.7, count * per))
    return pd.DataFrame(
        {
            "customer_idx": who,
            "seconds": seconds,
            "merchant_category": category,
            "amount": amount,
            "channel": np.where(contactless, "contactless", "online"),
            "country": np.where(foreign, rng.choice(RISKY_COUNTRIES, size=count * per), home),
            "distance_from_home_km": np.where(
                foreign, rng.uniform(1500, 11000, count * per), rng.lognormal(1.5, 1, count * per)
            ),
            "device_change": (~contactless & (rng.random(count * per) < 0.7)).astype(int),
        }
    )


def _with_velocity(stream: pd.DataFrame, customers: pd.DataFrame) -> pd.DataFrame:
    """Per-customer rolling counts and sums; vectorised through one sorted (customer, time) key."""
    day0 = stream["day"].min()
    stream = stream.assign(t=stream["seconds"] + stream["day"].map(lambda d: (d - day0).days * 86_400))
    stream = stream.sort_values(["customer_idx", "t"], kind="stable").reset_index(drop=True)
    key = stream["customer_idx"].to_numpy() * 10_000_000.0 + stream["t"].to_numpy()
    position = np.arange(len(stream))
    cumulative = np.concatenate([[0.0], np.cumsum(stream["amount"].to_numpy())])
    start_1h = np.searchsorted(key, key - 3_600, side="left")
    start_24h = np.searchsorted(key, key - 86_400, side="left")
    same_before = np.r_[False, stream["customer_idx"].to_numpy()[1:] == stream["customer_idx"].to_numpy()[:-1]]
    previous_t = np.r_[np.nan, stream["t"].to_numpy()[:-1]]
    return stream.assign(
        txn_count_1h=position - start_1h,
        txn_count_24h=position - start_24h,
        amount_sum_24h=cumulative[position] - cumulative[start_24h],
        seconds_since_last_txn=np.where(same_before, stream["t"].to_numpy() - previous_t, np.nan),
        amount_to_customer_avg=stream["amount"].to_numpy() / customers["avg_amount"].to_numpy()[stream["customer_idx"]],
    )


def fraud_logit(frame: pd.DataFrame, drifted: bool) -> np.ndarray:
    """True log-odds of fraud from observable features; the generator's ground truth."""
    hour = frame["event_time"].dt.hour.to_numpy()
    logit = (
        INTERCEPT
        + 1.1 * np.log1p(frame["txn_count_1h"].to_numpy())
        + 1.0 * np.log1p(frame["amount_to_customer_avg"].to_numpy())
        + 1.3 * frame["country"].isin(RISKY_COUNTRIES).to_numpy()
        + 0.9 * np.log1p(frame["distance_from_home_km"].to_numpy() / 1000)
        + 1.4 * frame["device_change"].to_numpy()
        + 0.8 * frame["channel"].eq("online").to_numpy()
        + 0.6 * frame["merchant_category"].isin(RISKY_CATEGORIES).to_numpy()
        + 0.5 * ((hour < 6) | (hour >= 23))
    )
    if drifted:
        contactless_tests = frame["channel"].eq("contactless").to_numpy() & (frame["txn_count_1h"].to_numpy() >= 2)
        logit = logit + 3.2 * contactless_tests
    return logit


def generate_fraud(
    day: date, seed: int, scenario, rows: int = 15000, customers: int = 3000, merchants: int = 800
) -> tuple[pd.DataFrame, dict[str, Any]]:
    population = _customers(seed, customers)
    yesterday = day - timedelta(days=1)
    stream = pd.concat(
        [
            _raw_day(yesterday, seed, rows, population, merchants, scenario.drifted(yesterday)),
            _raw_day(day, seed, rows, population, merchants, scenario.drifted(day)),
        ],
        ignore_index=True,
    )
    stream = _with_velocity(stream, population)
    today = stream[stream["day"] == day].sort_values("t", kind="stable").reset_index(drop=True)
    midnight = datetime.combine(day, datetime.min.time())
    frame = pd.DataFrame(
        {
            "transaction_id": [f"tx-{day:%Y%m%d}-{i:07d}" for i in range(len(today))],
            "event_time": midnight + pd.to_timedelta(today["seconds"].round(3), unit="s"),
            "customer_id": population["customer_id"].to_numpy()[today["customer_idx"]],
            "merchant_id": today["merchant_id"],
            "merchant_category": today["merchant_category"],
            "amount": today["amount"].round(2).clip(lower=0.01),
            "channel": today["channel"],
            "country": today["country"],
            "distance_from_home_km": today["distance_from_home_km"].round(2),
            "device_change": today["device_change"].astype(int),
            "txn_count_1h": today["txn_count_1h"].astype(int),
            "txn_count_24h": today["txn_count_24h"].astype(int),
            "amount_sum_24h": today["amount_sum_24h"].round(2),
            "amount_to_customer_avg": today["amount_to_customer_avg"].round(4),
            "seconds_since_last_txn": today["seconds_since_last_txn"].round(3),
        }
    )
    drifted = scenario.drifted(day)
    probability = sigmoid(fraud_logit(frame, drifted))
    label = rng_for(seed, "fraud-label", day.isoformat()).random(len(frame)) < probability
    frame["is_fraud"] = label.astype(int)
    meta = {
        "generator": "demo-fraud-v1",
        "seed": seed,
        "drifted": drifted,
        "expected_label_rate": round(float(probability.mean()), 6),
        "oracle_roc_auc": oracle_roc_auc(label.astype(int), probability),
    }
    return frame, meta
