"""Demo churn data: a daily snapshot of telco customers in the IBM Telco Customer Churn schema.

Customers are a fixed population drawn from the seed; each day samples a snapshot of them, ages their
tenure to that date and draws `Churn` from a known logistic model, so the best achievable ROC-AUC of the day
(the true probabilities scored on the drawn labels) is known and reported beside any trained model.
After the drift onset the mix shifts (new, pricier fibre customers on monthly contracts: covariate drift)
and the effect of price and payment friction on churn grows (concept drift).
"""

from __future__ import annotations

from datetime import date
from functools import cache
from typing import Any

import numpy as np
import pandas as pd

from ml_platform.datasets.common import day_index, oracle_roc_auc, rng_for, sigmoid
from ml_platform.datasets.scenario import Scenario

YES_NO = np.array(["No", "Yes"])
INTERNET = np.array(["DSL", "Fiber optic", "No"])
CONTRACTS = np.array(["Month-to-month", "One year", "Two year"])
PAYMENTS = np.array(["Electronic check", "Mailed check", "Bank transfer (automatic)", "Credit card (automatic)"])
ADDONS = (
    "OnlineSecurity",
    "OnlineBackup",
    "DeviceProtection",
    "TechSupport",
    "StreamingTV",
    "StreamingMovies",
)
# Monthly price of each product, roughly as in the public data set.
PRICE = {"phone": 20.0, "extra_line": 5.0, "DSL": 25.0, "Fiber optic": 45.0, "addon": 7.5}
BASE_INTERCEPT = -1.25


@cache
def _population(seed: int, size: int) -> pd.DataFrame:
    """Static customer attributes; the same for every day of a seed."""
    rng = rng_for(seed, "churn-population", size)
    digits = rng.choice(10_000, size=size * 2, replace=True)
    letters = rng.integers(0, 26, size=(size * 2, 5))
    ids = [f"{d:04d}-{''.join(chr(65 + x) for x in row)}" for d, row in zip(digits, letters, strict=True)]
    ids = list(dict.fromkeys(ids))[:size]
    senior = rng.random(size) < 0.16
    return pd.DataFrame(
        {
            "customerID": ids,
            "gender": rng.choice(["Female", "Male"], size=size),
            "SeniorCitizen": senior.astype(int),
            "Partner": YES_NO[(rng.random(size) < 0.48).astype(int)],
            "Dependents": YES_NO[(rng.random(size) < 0.30).astype(int)],
            # Sign-ups spread over 2020-2028: a snapshot holds those already signed up, so tenure ages daily.
            "signup_day": rng.integers(day_index(date(2020, 1, 1)), day_index(date(2029, 1, 1)), size=size),
            "internet_pref": rng.choice(3, size=size, p=[0.34, 0.44, 0.22]),
            "contract_pref": rng.choice(3, size=size, p=[0.55, 0.21, 0.24]),
            "payment_pref": rng.choice(4, size=size, p=[0.34, 0.23, 0.22, 0.21]),
            "addon_affinity": rng.random(size),
            "price_noise": rng.normal(0, 2.0, size=size),
        }
    )


def _snapshot(pop: pd.DataFrame, day: date, rows: int, rng: np.random.Generator, drifted: bool) -> pd.DataFrame:
    today = day_index(day)
    signed_up = np.flatnonzero(pop["signup_day"].to_numpy() <= today)
    pick = rng.choice(signed_up, size=min(rows, len(signed_up)), replace=False)
    c = pop.iloc[np.sort(pick)].reset_index(drop=True)
    n = len(c)
    tenure_days = today - c["signup_day"].to_numpy()
    internet = c["internet_pref"].to_numpy().copy()
    contract = c["contract_pref"].to_numpy().copy()
    payment = c["payment_pref"].to_numpy().copy()
    tenure = np.clip(tenure_days // 30 + rng.integers(-1, 2, size=n), 0, 72)
    if drifted:
        # A promotion brought in new fibre customers on monthly contracts paying by electronic check.
        moved = rng.random(n) < 0.25
        internet[moved] = 1
        contract[moved] = 0
        payment[moved & (rng.random(n) < 0.6)] = 0
        tenure[moved] = rng.integers(0, 12, size=int(moved.sum()))
    has_internet = internet != 2
    phone = rng.random(n) < 0.9
    multi = phone & (rng.random(n) < 0.42)
    affinity = c["addon_affinity"].to_numpy()
    addons = {name: has_internet & (rng.random(n) < 0.25 + 0.4 * affinity) for name in ADDONS}
    monthly = (
        PRICE["phone"] * phone
        + PRICE["extra_line"] * multi
        + np.where(internet == 0, PRICE["DSL"], 0)
        + np.where(internet == 1, PRICE["Fiber optic"], 0)
        + PRICE["addon"] * sum(addons.values())
        + c["price_noise"].to_numpy()
    )
    monthly = np.round(np.clip(monthly * (1.12 if drifted else 1.0), 18.25, 250), 2)
    total = np.round(monthly * tenure * rng.uniform(0.95, 1.05, size=n), 2)

    frame = pd.DataFrame(
        {
            "customerID": c["customerID"],
            "gender": c["gender"],
            "SeniorCitizen": c["SeniorCitizen"],
            "Partner": c["Partner"],
            "Dependents": c["Dependents"],
            "tenure": tenure.astype(int),
            "PhoneService": YES_NO[phone.astype(int)],
            "MultipleLines": np.where(phone, YES_NO[multi.astype(int)], "No phone service"),
            "InternetService": INTERNET[internet],
        }
    )
    for name in ADDONS:
        frame[name] = np.where(has_internet, YES_NO[addons[name].astype(int)], "No internet service")
    frame["Contract"] = CONTRACTS[contract]
    frame["PaperlessBilling"] = YES_NO[(rng.random(n) < np.where(internet == 1, 0.75, 0.5)).astype(int)]
    frame["PaymentMethod"] = PAYMENTS[payment]
    frame["MonthlyCharges"] = monthly
    # As in real exports: customers in their first month have no total yet (blank, read as null).
    frame["TotalCharges"] = np.where(tenure == 0, np.nan, total)
    return frame


def churn_logit(frame: pd.DataFrame, drifted: bool) -> np.ndarray:
    """The true log-odds of churn; the generator's ground truth, not something a model sees."""
    monthly = frame["Contract"].eq("Month-to-month").to_numpy()
    fiber = frame["InternetService"].eq("Fiber optic").to_numpy()
    echeck = frame["PaymentMethod"].eq("Electronic check").to_numpy()
    tenure = frame["tenure"].to_numpy()
    logit = (
        BASE_INTERCEPT
        + 1.3 * monthly
        - 0.9 * frame["Contract"].eq("Two year").to_numpy()
        - 0.75 * np.log1p(tenure)
        + 0.55 * fiber
        + 0.45 * echeck
        - 0.45 * frame["TechSupport"].eq("Yes").to_numpy()
        - 0.35 * frame["OnlineSecurity"].eq("Yes").to_numpy()
        + 0.3 * frame["SeniorCitizen"].to_numpy()
        + 0.25 * frame["PaperlessBilling"].eq("Yes").to_numpy()
        - 0.2 * frame["Partner"].eq("Yes").to_numpy()
        + 0.012 * (frame["MonthlyCharges"].to_numpy() - 65)
        + 1.6  # centres log1p(tenure) around its mean
    )
    if drifted:
        # Concept drift: a competitor's fibre offer makes price-sensitive, auto-pay-free customers leave faster.
        logit = logit + 0.6 * (fiber & echeck) + 0.01 * (frame["MonthlyCharges"].to_numpy() - 65)
    return logit


def generate_churn(
    day: date, seed: int, scenario: Scenario, rows: int = 3000, population: int = 20000
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The snapshot of `day` and facts about it (true churn rate, best achievable ROC-AUC)."""
    drifted = scenario.drifted(day)
    rng = rng_for(seed, "churn", day.isoformat())
    frame = _snapshot(_population(seed, population), day, rows, rng, drifted)
    probability = sigmoid(churn_logit(frame, drifted))
    churned = rng.random(len(frame)) < probability
    frame["Churn"] = YES_NO[churned.astype(int)]
    meta = {
        "generator": "demo-churn-v1",
        "seed": seed,
        "drifted": drifted,
        "expected_label_rate": round(float(probability.mean()), 6),
        "oracle_roc_auc": oracle_roc_auc(churned.astype(int), probability),
    }
    return frame, meta
