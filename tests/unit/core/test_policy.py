"""Promotion policy: each gate, and the verdict from gates and the run's circumstances."""

from __future__ import annotations

from typing import get_args

import pytest

from ml_platform.config.base import parse
from ml_platform.config.policy import GateName
from ml_platform.policy import GATES, Decision, GateResult, PromotionPolicy, decide, evaluate_gates

POLICY = PromotionPolicy.model_validate(
    {
        "primary_metric": "roc_auc",
        "min_improvement": 0.01,
        "gates": ["validation", "floors", "ceilings", "primary_metric", "guardrails", "drift"],
        "guardrails": {
            "pr_auc": {"direction": "higher", "tolerance": 0.02},
            "log_loss": {"direction": "lower", "tolerance": 0.01},
        },
        "floors": {"roc_auc": 0.7},
        "ceilings": {"log_loss": 0.6},
    }
)
CHAMPION = {"roc_auc": 0.80, "pr_auc": 0.50, "log_loss": 0.45}
FACTS = {"validation_passed": True, "drift": {"drifted": False}}  # a normal night: validated, monitored


def gates(new: dict, old: dict | None = CHAMPION, facts: dict = FACTS) -> dict[str, GateResult]:
    return {g.gate: g for g in evaluate_gates(POLICY, new, old, facts)}


def test_better_challenger_passes_every_gate() -> None:
    result = gates({"roc_auc": 0.82, "pr_auc": 0.51, "log_loss": 0.44})
    assert all(g.passed for g in result.values()), result
    assert "beats it by the required 0.01 (margin +0.0200)" in result["primary_metric"].detail


def test_primary_metric_needs_the_minimum_margin() -> None:
    result = gates({"roc_auc": 0.805, "pr_auc": 0.5, "log_loss": 0.45})
    assert not result["primary_metric"].passed
    assert "does not beat" in result["primary_metric"].detail


def test_primary_metric_direction_lower_is_better() -> None:
    policy = PromotionPolicy.model_validate(
        {
            "primary_metric": "hallucination_rate",
            "primary_direction": "lower",
            "min_improvement": 0.0,
            "gates": ["primary_metric"],
        }
    )
    [better] = evaluate_gates(policy, {"hallucination_rate": 0.1}, {"hallucination_rate": 0.2}, {})
    [worse] = evaluate_gates(policy, {"hallucination_rate": 0.3}, {"hallucination_rate": 0.2}, {})
    assert better.passed and not worse.passed


def test_guardrails_catch_a_regression_beyond_tolerance_in_either_direction() -> None:
    result = gates({"roc_auc": 0.85, "pr_auc": 0.47, "log_loss": 0.47})
    assert not result["guardrails"].passed
    assert "pr_auc regressed by 0.0300" in result["guardrails"].detail
    assert "log_loss regressed by 0.0200" in result["guardrails"].detail
    assert gates({"roc_auc": 0.85, "pr_auc": 0.49, "log_loss": 0.455})["guardrails"].passed


def test_floors_and_ceilings_are_absolute() -> None:
    result = gates({"roc_auc": 0.65, "pr_auc": 0.5, "log_loss": 0.7}, old=None)
    assert not result["floors"].passed and "roc_auc 0.6500 < floor 0.7" in result["floors"].detail
    assert not result["ceilings"].passed and "log_loss 0.7000 > budget 0.6" in result["ceilings"].detail


def test_without_a_champion_relative_gates_pass_and_say_why() -> None:
    result = gates({"roc_auc": 0.75, "pr_auc": 0.3, "log_loss": 0.5}, old=None)
    assert result["primary_metric"].passed and "no champion" in result["primary_metric"].detail
    assert result["guardrails"].passed


def test_validation_gate_reads_the_fact() -> None:
    assert not gates({"roc_auc": 0.9, "pr_auc": 0.6, "log_loss": 0.3}, facts={"validation_passed": False})[
        "validation"
    ].passed


def test_drift_gate_demands_a_win_on_current_data_only_when_drifted() -> None:
    equal = {"roc_auc": 0.80, "pr_auc": 0.50, "log_loss": 0.45}
    assert gates(equal, facts={**FACTS, "drift": {"drifted": False}})["drift"].passed
    drifted = {**FACTS, "drift": {"drifted": True, "share_drifted": 0.4}}
    assert not gates(equal, facts=drifted)["drift"].passed
    assert gates({**equal, "roc_auc": 0.81}, facts=drifted)["drift"].passed


def test_missing_evidence_fails_its_gate_and_says_so() -> None:
    nan = float("nan")
    result = gates({"roc_auc": nan, "pr_auc": 0.6, "log_loss": nan})
    assert not result["floors"].passed and "missing evidence: challenger roc_auc" in result["floors"].detail
    assert not result["ceilings"].passed and "log_loss is not a number" in result["ceilings"].detail
    assert not result["primary_metric"].passed and "missing evidence" in result["primary_metric"].detail
    assert not result["guardrails"].passed and "challenger log_loss" in result["guardrails"].detail
    without_pr_auc = gates({"roc_auc": 0.9, "log_loss": 0.3})
    assert not without_pr_auc["guardrails"].passed and "pr_auc is not a number" in without_pr_auc["guardrails"].detail


def test_a_missing_drift_verdict_fails_the_drift_gate_when_there_is_a_champion() -> None:
    better = {"roc_auc": 0.9, "pr_auc": 0.6, "log_loss": 0.3}
    unmonitored = gates(better, facts={"validation_passed": True})["drift"]
    assert not unmonitored.passed and "no drift verdict for this day" in unmonitored.detail
    assert gates(better, old=None, facts={"validation_passed": True})["drift"].passed


def test_unknown_gate_in_config_is_refused() -> None:
    with pytest.raises(ValueError, match=r"policy\.yaml: gates\.0: .*'vibes'"):
        parse(PromotionPolicy, {"primary_metric": "x", "min_improvement": 0, "gates": ["vibes"]}, "policy.yaml")


def test_every_gate_a_config_may_name_is_implemented_and_no_other() -> None:
    assert set(GATES) == set(get_args(GateName))


PASS = [GateResult("primary_metric", True, "beats it")]
FAIL = [GateResult("guardrails", False, "pr_auc regressed")]


@pytest.mark.parametrize(
    ("kwargs", "verdict", "reason"),
    [
        ({"gates": PASS, "champion_version": None}, "promote", "first champion"),
        ({"gates": PASS, "champion_version": "1"}, "promote", "clears every gate"),
        ({"gates": FAIL, "champion_version": "1"}, "reject", "gate guardrails failed: pr_auc regressed"),
        ({"gates": PASS, "champion_version": "2"}, "unchanged", "already the champion"),
        ({"gates": PASS, "champion_version": "1", "is_backfill": True}, "recorded_only", "gates say: promote"),
        ({"gates": FAIL, "champion_version": "1", "is_backfill": True}, "recorded_only", "gates say: reject"),
        (
            {"gates": FAIL, "champion_version": "1", "force_reason": "hotfix for a known bug"},
            "promote",
            "forced by a manual run: hotfix",
        ),
        ({"gates": PASS, "champion_version": "1", "stale_reason": "champion is newer"}, "reject", "champion is newer"),
    ],
)
def test_verdicts(kwargs: dict, verdict: str, reason: str) -> None:
    args = {"challenger_version": "2", "is_backfill": False, "force_reason": None} | kwargs
    got, reasons = decide(**args)
    assert got == verdict
    assert any(reason in r for r in reasons), reasons


def test_decision_log_lines_show_gates_and_metrics_side_by_side() -> None:
    decision = Decision(
        model="churn",
        registered_model="churn-xgboost",
        date="2026-11-20",
        run_type="scheduled",
        airflow_run_id="r",
        challenger_version="2",
        champion_before="1",
        champion_after="2",
        challenger_metrics={"roc_auc": 0.82},
        champion_metrics={"roc_auc": 0.8},
        gates=PASS,
        verdict="promote",
        reasons=["challenger clears every gate"],
        aliases_moved=True,
    )
    text = "\n".join(decision.log_lines())
    assert "PROMOTE" in text and "gate primary_metric" in text
    assert "roc_auc" in text and "0.8200" in text and "0.8000" in text
    assert "champion: 1 -> 2" in text


# -- gates on intervals ------------------------------------------------------------------------------------
INTERVAL_POLICY = PromotionPolicy.model_validate(
    {
        "primary_metric": "correctness",
        "primary_direction": "higher",
        "min_improvement": 0.0,
        "gates": ["not_worse_than_champion", "better_than_base"],
        "not_worse_than_champion": {"hallucination_rate": "lower", "correctness": "higher"},
        "better_than_base": {"hallucination_rate": "lower", "correctness": "higher"},
    }
)
CREDIBLY_BETTER = {"hallucination_rate": [-0.1, -0.16, -0.04], "correctness": [0.12, 0.05, 0.19]}
NOISE = {"hallucination_rate": [0.02, -0.03, 0.07], "correctness": [-0.01, -0.06, 0.04]}


def _interval_gates(vs_base: dict, vs_champion: dict | None) -> dict[str, GateResult]:
    comparisons = {"challenger_vs_base": vs_base} | ({"challenger_vs_champion": vs_champion} if vs_champion else {})
    old = {"correctness": 0.5} if vs_champion is not None else None
    results = evaluate_gates(INTERVAL_POLICY, {"correctness": 0.6}, old, {"comparisons": comparisons})
    return {r.gate: r for r in results}


def test_a_challenger_within_noise_of_the_champion_and_credibly_better_than_base_passes() -> None:
    gates = _interval_gates(CREDIBLY_BETTER, NOISE)
    assert all(g.passed for g in gates.values()), gates
    assert "[-0.160, -0.040]" in gates["better_than_base"].detail


def test_credibly_worse_than_the_champion_fails_on_that_metric() -> None:
    worse = {"hallucination_rate": [0.08, 0.02, 0.14], "correctness": [0.0, -0.05, 0.05]}
    gate = _interval_gates(CREDIBLY_BETTER, worse)["not_worse_than_champion"]
    assert not gate.passed and "hallucination_rate" in gate.detail and "credibly worse" in gate.detail


def test_a_gain_over_the_base_model_within_noise_is_not_enough() -> None:
    gate = _interval_gates(NOISE, None)["better_than_base"]
    assert not gate.passed and "not credibly better" in gate.detail
    assert _interval_gates(CREDIBLY_BETTER, None)["not_worse_than_champion"].passed  # no champion yet


def test_missing_intervals_are_missing_evidence() -> None:
    gates = {r.gate: r for r in evaluate_gates(INTERVAL_POLICY, {}, {"correctness": 0.5}, {})}
    assert not gates["better_than_base"].passed and "missing evidence" in gates["better_than_base"].detail
    assert not gates["not_worse_than_champion"].passed
    nan = {"hallucination_rate": [float("nan")] * 3, "correctness": [0.1, 0.05, 0.15]}
    assert not _interval_gates(nan, None)["better_than_base"].passed
