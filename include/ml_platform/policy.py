"""Promotion policy shared by every registered model (churn, fraud, the support assistant).

A policy is a list of named gates from the model's config. Each gate looks at the challenger's metrics, the
champion's metrics on the same evaluation data, and facts about the run (validation verdict, drift, ...),
and says pass or fail with a sentence why. New gates (drift, say) are added here and switched on in
config, without touching any DAG.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from ml_platform.config.policy import PromotionPolicy

__all__ = ["GATES", "Decision", "GateResult", "PromotionPolicy", "decide", "evaluate_gates"]


@dataclass(frozen=True)
class GateResult:
    gate: str
    passed: bool
    detail: str


Metrics = Mapping[str, float]
Gate = Callable[[PromotionPolicy, Metrics, Metrics | None, Mapping[str, Any]], GateResult]


def _better_by(direction: str, challenger: float, champion: float) -> float:
    """How much better the challenger is (positive) in the metric's own direction."""
    return challenger - champion if direction == "higher" else champion - challenger


def gate_validation(policy: PromotionPolicy, new: Metrics, old: Metrics | None, facts: Mapping[str, Any]) -> GateResult:
    passed = bool(facts.get("validation_passed"))
    return GateResult("validation", passed, "the day's data passed validation" if passed else "validation failed")


def gate_floors(policy: PromotionPolicy, new: Metrics, old: Metrics | None, facts: Mapping[str, Any]) -> GateResult:
    misses = [f"{m} {new[m]:.4f} < floor {v}" for m, v in policy.floors.items() if new[m] < v]
    detail = "; ".join(misses) or "all floors cleared: " + ", ".join(
        f"{m} {new[m]:.4f} >= {v}" for m, v in policy.floors.items()
    )
    return GateResult("floors", not misses, detail)


def gate_ceilings(policy: PromotionPolicy, new: Metrics, old: Metrics | None, facts: Mapping[str, Any]) -> GateResult:
    misses = [f"{m} {new[m]:.4f} > budget {v}" for m, v in policy.ceilings.items() if new[m] > v]
    detail = "; ".join(misses) or "within budgets: " + ", ".join(
        f"{m} {new[m]:.4f} <= {v}" for m, v in policy.ceilings.items()
    )
    return GateResult("ceilings", not misses, detail)


def gate_primary_metric(
    policy: PromotionPolicy, new: Metrics, old: Metrics | None, facts: Mapping[str, Any]
) -> GateResult:
    metric = policy.primary_metric
    if old is None:
        return GateResult("primary_metric", True, f"no champion to beat; {metric} {new[metric]:.4f}")
    gain = _better_by(policy.primary_direction, new[metric], old[metric])
    passed = gain >= policy.min_improvement
    verb = "beats" if passed else "does not beat"
    return GateResult(
        "primary_metric",
        passed,
        f"{metric} {new[metric]:.4f} vs champion {old[metric]:.4f}: {verb} it by the required {policy.min_improvement} "
        f"(margin {gain:+.4f})",
    )


def gate_guardrails(policy: PromotionPolicy, new: Metrics, old: Metrics | None, facts: Mapping[str, Any]) -> GateResult:
    if old is None:
        return GateResult("guardrails", True, "no champion to compare against")
    breaches, checks = [], []
    for metric, rail in policy.guardrails.items():
        regression = -_better_by(rail.direction, new[metric], old[metric])
        checks.append(f"{metric} {new[metric]:.4f} vs {old[metric]:.4f}")
        if regression > rail.tolerance:
            breaches.append(f"{metric} regressed by {regression:.4f} (> tolerance {rail.tolerance})")
    return GateResult("guardrails", not breaches, "; ".join(breaches) or "no regression: " + ", ".join(checks))


def gate_drift(policy: PromotionPolicy, new: Metrics, old: Metrics | None, facts: Mapping[str, Any]) -> GateResult:
    """On drifted data the challenger must still beat the champion on the current day's data."""
    drift = facts.get("drift")
    if not drift or not drift.get("drifted"):
        return GateResult("drift", True, "no drift verdict against the current champion")
    if old is None:
        return GateResult("drift", True, "drift detected, but there is no champion to compare with")
    metric = policy.primary_metric
    passed = _better_by(policy.primary_direction, new[metric], old[metric]) > 0
    return GateResult(
        "drift",
        passed,
        f"data drifted ({drift.get('share_drifted', '?')} of features); challenger {metric} {new[metric]:.4f} "
        f"{'beats' if passed else 'does not beat'} the champion's {old[metric]:.4f} on the current day",
    )


GATES: dict[str, Gate] = {
    "validation": gate_validation,
    "floors": gate_floors,
    "ceilings": gate_ceilings,
    "primary_metric": gate_primary_metric,
    "guardrails": gate_guardrails,
    "drift": gate_drift,
}


def evaluate_gates(
    policy: PromotionPolicy, new: Metrics, old: Metrics | None, facts: Mapping[str, Any]
) -> list[GateResult]:
    return [GATES[name](policy, new, old, facts) for name in policy.gates]


@dataclass
class Decision:
    """What the registry decided for one run, with every input needed to audit it later."""

    model: str
    registered_model: str
    date: str
    run_type: str
    airflow_run_id: str
    challenger_version: str | None
    champion_before: str | None
    champion_after: str | None
    challenger_metrics: dict[str, float]
    champion_metrics: dict[str, float] | None
    gates: list[GateResult]
    verdict: str  # promote | reject | unchanged | recorded_only | rollback
    reasons: list[str]
    forced: bool = False
    force_reason: str | None = None
    aliases_moved: bool = False
    facts: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def log_lines(self) -> list[str]:
        lines = [f"decision for {self.registered_model} on {self.date} ({self.run_type}): {self.verdict.upper()}"]
        lines += [f"  reason: {r}" for r in self.reasons]
        lines += [f"  gate {g.gate:<15} {'PASS' if g.passed else 'FAIL'}  {g.detail}" for g in self.gates]
        metrics = sorted(set(self.challenger_metrics) | set(self.champion_metrics or {}))
        lines.append(f"  {'metric':<20} {'challenger':>12} {'champion':>12}")
        for m in metrics:
            old = (self.champion_metrics or {}).get(m)
            lines.append(
                f"  {m:<20} {self.challenger_metrics.get(m, float('nan')):>12.4f} "
                f"{'-' if old is None else f'{old:.4f}':>12}"
            )
        lines.append(
            f"  champion: {self.champion_before or 'none'} -> {self.champion_after or 'none'}"
            f"{' (aliases unchanged)' if not self.aliases_moved else ''}"
        )
        return lines


def decide(
    *,
    gates: list[GateResult],
    challenger_version: str | None,
    champion_version: str | None,
    is_backfill: bool,
    force_reason: str | None,
    stale_reason: str | None = None,
) -> tuple[str, list[str]]:
    """The verdict and its reasons from gate results and the run's circumstances."""
    failed = [g for g in gates if not g.passed]
    if challenger_version is not None and challenger_version == champion_version:
        return "unchanged", [f"version {challenger_version} is already the champion (a rerun of the same data)"]
    if is_backfill:
        would = "promote" if not failed and not stale_reason else "reject"
        return "recorded_only", [f"backfill runs never move aliases (the gates say: {would})"]
    if force_reason:
        return "promote", [f"forced by a manual run: {force_reason}"] + [
            f"overrode failed gate {g.gate}" for g in failed
        ]
    if stale_reason:
        return "reject", [stale_reason]
    if failed:
        return "reject", [f"gate {g.gate} failed: {g.detail}" for g in failed]
    if champion_version is None:
        return "promote", ["first champion: it clears every gate"]
    return "promote", [
        "challenger clears every gate: " + "; ".join(g.detail for g in gates if g.gate == "primary_metric")
    ]
