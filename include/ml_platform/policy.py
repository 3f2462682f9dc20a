"""Promotion policy shared by every registered model (churn, fraud, the support assistant).

A policy is a list of named gates from the model's config. Each gate looks at the challenger's metrics, the
champion's metrics on the same evaluation data, and facts about the run (validation verdict, drift, ...),
and says pass or fail with a sentence why. New gates (drift, say) are added here and switched on in
config, without touching any DAG.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
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


def _value(metrics: Metrics, name: str) -> float:
    """A metric, NaN when it is missing: every comparison below is written so that NaN fails it."""
    value = metrics.get(name)
    return float("nan") if value is None else float(value)


def _missing(metrics: Metrics, names: Iterable[str], whose: str) -> list[str]:
    return [f"missing evidence: {whose} {name} is not a number" for name in names if math.isnan(_value(metrics, name))]


def _better_by(direction: str, challenger: float, champion: float) -> float:
    """How much better the challenger is (positive) in the metric's own direction."""
    return challenger - champion if direction == "higher" else champion - challenger


def gate_validation(policy: PromotionPolicy, new: Metrics, old: Metrics | None, facts: Mapping[str, Any]) -> GateResult:
    passed = bool(facts.get("validation_passed"))
    return GateResult("validation", passed, "the day's data passed validation" if passed else "validation failed")


def gate_floors(policy: PromotionPolicy, new: Metrics, old: Metrics | None, facts: Mapping[str, Any]) -> GateResult:
    missing = _missing(new, policy.floors, "challenger")
    misses = missing or [
        f"{m} {_value(new, m):.4f} < floor {v}" for m, v in policy.floors.items() if not _value(new, m) >= v
    ]
    detail = "; ".join(misses) or "all floors cleared: " + ", ".join(
        f"{m} {_value(new, m):.4f} >= {v}" for m, v in policy.floors.items()
    )
    return GateResult("floors", not misses, detail)


def gate_ceilings(policy: PromotionPolicy, new: Metrics, old: Metrics | None, facts: Mapping[str, Any]) -> GateResult:
    missing = _missing(new, policy.ceilings, "challenger")
    misses = missing or [
        f"{m} {_value(new, m):.4f} > budget {v}" for m, v in policy.ceilings.items() if not _value(new, m) <= v
    ]
    detail = "; ".join(misses) or "within budgets: " + ", ".join(
        f"{m} {_value(new, m):.4f} <= {v}" for m, v in policy.ceilings.items()
    )
    return GateResult("ceilings", not misses, detail)


def gate_primary_metric(
    policy: PromotionPolicy, new: Metrics, old: Metrics | None, facts: Mapping[str, Any]
) -> GateResult:
    metric = policy.primary_metric
    if missing := _missing(new, [metric], "challenger") + (_missing(old, [metric], "champion") if old else []):
        return GateResult("primary_metric", False, "; ".join(missing))
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
    breaches = _missing(new, policy.guardrails, "challenger") + _missing(old, policy.guardrails, "champion")
    checks = []
    for metric, rail in policy.guardrails.items():
        regression = -_better_by(rail.direction, _value(new, metric), _value(old, metric))
        checks.append(f"{metric} {_value(new, metric):.4f} vs {_value(old, metric):.4f}")
        if not math.isnan(regression) and regression > rail.tolerance:
            breaches.append(f"{metric} regressed by {regression:.4f} (> tolerance {rail.tolerance})")
    return GateResult("guardrails", not breaches, "; ".join(breaches) or "no regression: " + ", ".join(checks))


def gate_drift(policy: PromotionPolicy, new: Metrics, old: Metrics | None, facts: Mapping[str, Any]) -> GateResult:
    """On drifted data the challenger must still beat the champion on the current day's data. With a champion
    but no drift verdict for the day (monitoring failed or has not run yet), the evidence is missing: fail."""
    drift = facts.get("drift")
    if old is None:
        return GateResult("drift", True, "no champion to compare with")
    if not drift:
        return GateResult(
            "drift", False, "missing evidence: no drift verdict for this day (model_monitoring failed or has not run)"
        )
    if not drift.get("drifted"):
        return GateResult("drift", True, "no drift against the current champion")
    metric = policy.primary_metric
    passed = _better_by(policy.primary_direction, new[metric], old[metric]) > 0
    return GateResult(
        "drift",
        passed,
        f"data drifted ({drift.get('share_drifted', '?')} of features); challenger {metric} {new[metric]:.4f} "
        f"{'beats' if passed else 'does not beat'} the champion's {old[metric]:.4f} on the current day",
    )


def _difference(facts: Mapping[str, Any], comparison: str, metric: str) -> tuple[float, float, float] | None:
    found = (facts.get("comparisons") or {}).get(comparison, {}).get(metric)
    return None if found is None or any(math.isnan(float(v)) for v in found) else tuple(map(float, found))


def _interval_gate(
    gate: str, metrics: Mapping[str, str], comparison: str, facts: Mapping[str, Any], *, must_be_better: bool
) -> GateResult:
    """One gate on 95% intervals of (challenger - other) per metric. `must_be_better`: the interval must lie
    wholly on the better side of zero; otherwise it must only not lie wholly on the worse side."""
    other = comparison.removeprefix("challenger_vs_").replace("base", "base model")
    problems, checks = [], []
    for metric, direction in metrics.items():
        diff = _difference(facts, comparison, metric)
        if diff is None:
            problems.append(f"missing evidence: no interval of {metric} against the {other}")
            continue
        mean, low, high = diff
        better, worse = (high < 0, low > 0) if direction == "lower" else (low > 0, high < 0)
        text = f"{metric} {mean:+.3f} [{low:+.3f}, {high:+.3f}]"
        if must_be_better and not better:
            problems.append(f"{text} not credibly better")
        elif not must_be_better and worse:
            problems.append(f"{text} credibly worse")
        else:
            checks.append(text)
    verdict = "credibly better than" if must_be_better else "not credibly worse than"
    return GateResult(gate, not problems, "; ".join(problems) or f"{verdict} the {other}: " + ", ".join(checks))


def gate_not_worse_than_champion(
    policy: PromotionPolicy, new: Metrics, old: Metrics | None, facts: Mapping[str, Any]
) -> GateResult:
    """Fails when the 95% interval of (challenger - champion) lies wholly on the worse side of zero."""
    if old is None:
        return GateResult("not_worse_than_champion", True, "no champion to compare against")
    return _interval_gate(
        "not_worse_than_champion", policy.not_worse_than_champion, "challenger_vs_champion", facts, must_be_better=False
    )


def gate_better_than_base(
    policy: PromotionPolicy, new: Metrics, old: Metrics | None, facts: Mapping[str, Any]
) -> GateResult:
    """Passes only when the 95% interval of (challenger - base model) lies wholly on the better side of zero."""
    return _interval_gate("better_than_base", policy.better_than_base, "challenger_vs_base", facts, must_be_better=True)


GATES: dict[str, Gate] = {
    "validation": gate_validation,
    "floors": gate_floors,
    "ceilings": gate_ceilings,
    "primary_metric": gate_primary_metric,
    "guardrails": gate_guardrails,
    "drift": gate_drift,
    "not_worse_than_champion": gate_not_worse_than_champion,
    "better_than_base": gate_better_than_base,
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
    try_number: int = 1
    recorded_at: str = ""  # UTC, set when the decision is recorded

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
