"""The MLflow model registry as the platform uses it: experiments, runs found by tags, and aliases.

Aliases (`champion`, `challenger`, `previous`) replace MLflow's deprecated stages. Moving them is the only
way a model reaches production, and every move is recorded as a decision (see `record_decision`).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar

from ml_platform import names
from ml_platform.errors import ChampionMoved, NothingToRollBack
from ml_platform.policy import Decision, PromotionPolicy, decide, evaluate_gates
from ml_platform.reports import Reports
from ml_platform.run_context import RunContext
from ml_platform.settings import Settings

log = logging.getLogger(__name__)

CHAMPION, CHALLENGER, PREVIOUS = "champion", "challenger", "previous"
PROMOTED_BY = "promoted_by"  # version tag: which Airflow run made it champion, and which champion it replaced
Record = TypeVar("Record")


def configure_mlflow(settings: Settings):
    """Point MLflow at the configured store; returns the mlflow module."""
    import mlflow

    uri = settings.mlflow_tracking_uri
    if uri.startswith("sqlite:///"):
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    # MLflow's S3 client reads its own variable; reuse the standard boto3 one when only that is set.
    if os.environ.get("AWS_ENDPOINT_URL") and not os.environ.get("MLFLOW_S3_ENDPOINT_URL"):
        os.environ["MLFLOW_S3_ENDPOINT_URL"] = os.environ["AWS_ENDPOINT_URL"]
    mlflow.set_tracking_uri(uri)
    return mlflow


def artifact_location(settings: Settings, experiment: str) -> str:
    base = settings.mlflow_artifacts_uri
    if "://" in base:
        return f"{base.rstrip('/')}/{experiment}"
    return (Path(base) / experiment).resolve().as_uri()


class ModelRegistry:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.mlflow = configure_mlflow(settings)
        self.client = self.mlflow.MlflowClient()

    def experiment_id(self, name: str) -> str:
        found = self.client.get_experiment_by_name(name)
        if found:
            return found.experiment_id
        return self.client.create_experiment(name, artifact_location=artifact_location(self.settings, name))

    def find_run(self, experiment: str, tags: dict[str, str]) -> Any | None:
        """The newest finished run carrying all these tags, or None."""
        clauses = [f"tags.{k} = '{v}'" for k, v in tags.items()] + ["attributes.status = 'FINISHED'"]
        runs = self.client.search_runs(
            [self.experiment_id(experiment)],
            " and ".join(clauses),
            order_by=["attributes.start_time DESC"],
            max_results=1,
        )
        return runs[0] if runs else None

    def alias_version(self, model: str, alias: str) -> str | None:
        from mlflow.exceptions import MlflowException

        try:
            return str(self.client.get_model_version_by_alias(model, alias).version)
        except MlflowException:
            return None

    def aliases(self, model: str) -> dict[str, str]:
        from mlflow.exceptions import MlflowException

        try:
            return {alias: str(v) for alias, v in self.client.get_registered_model(model).aliases.items()}
        except MlflowException:
            return {}

    def version_of_run(self, model: str, run_id: str) -> str | None:
        """The registered version a run produced, if any (how reruns find the work they can reuse)."""
        versions = self.client.search_model_versions(f"name = '{model}' and run_id = '{run_id}'")
        return str(versions[0].version) if versions else None

    def version(self, model: str, version: str):
        return self.client.get_model_version(model, version)

    def find_registered(self, model: str, training_key: str) -> tuple[Any, str] | None:
        """The finished run that already trained `training_key`, with the version it registered, or None."""
        run = self.find_run(model, {"training_key": training_key})
        version = run and self.version_of_run(model, run.info.run_id)
        return (run, version) if version else None

    def tag_version(self, model: str, version: str, tags: Mapping[str, str]) -> None:
        for tag, value in tags.items():
            self.client.set_model_version_tag(model, version, tag, value)

    def set_alias(self, model: str, alias: str, version: str) -> None:
        self.client.set_registered_model_alias(model, alias, version)
        log.info("alias %s@%s -> version %s", model, alias, version)

    def delete_alias(self, model: str, alias: str) -> None:
        if self.alias_version(model, alias) is not None:
            self.client.delete_registered_model_alias(model, alias)

    def _promotion_mark(self, model: str, version: str) -> dict[str, Any]:
        return json.loads(self.version(model, version).tags.get(PROMOTED_BY) or "{}")

    def champion_seen_by(self, model: str, version: str, airflow_run_id: str) -> str | None:
        """The champion a run's gates judge against: the current one, unless an earlier attempt of this same run
        already promoted `version`, then the champion that attempt replaced (so a retry re-judges the same
        question instead of finding its own champion and calling the day "unchanged")."""
        current = self.alias_version(model, CHAMPION)
        if current is not None and current == version:
            mark = self._promotion_mark(model, version)
            if mark.get("airflow_run_id") == airflow_run_id:
                return mark.get("replaced")
        return current

    def promote(self, model: str, version: str, expected_champion: str | None, airflow_run_id: str) -> bool:
        """champion -> previous, version -> champion; the challenger alias leaves the promoted version. Returns
        False when an earlier attempt of the same run had already made exactly this move.

        Compare-and-set: only if the champion is still `expected_champion`, the one the gates were judged
        against (the registry has no transaction; the `registry_aliases` pool keeps movers from interleaving).
        """
        current = self.alias_version(model, CHAMPION)
        mark = {"airflow_run_id": airflow_run_id, "replaced": expected_champion}
        if current == version and current != expected_champion and self._promotion_mark(model, version) == mark:
            log.info("%s: version %s was made champion by an earlier attempt of %s", model, version, airflow_run_id)
            return False
        if current != expected_champion:
            raise ChampionMoved(
                f"{model}: the champion is version {current}, not {expected_champion} as when the gates were judged"
            )
        # The mark goes first: a crash after it and before the move leaves the champion as it was, and the
        # retry moves it; a crash after the move lets the retry recognise its own move.
        self.client.set_model_version_tag(model, version, PROMOTED_BY, json.dumps(mark, sort_keys=True))
        if current is not None and current != version:
            self.set_alias(model, PREVIOUS, current)
        self.set_alias(model, CHAMPION, version)
        if self.alias_version(model, CHALLENGER) == version:
            self.delete_alias(model, CHALLENGER)
        return True

    def rollback(self, model: str) -> tuple[str, str]:
        """champion back to previous; returns (demoted, restored). The previous alias is consumed."""
        champion, previous = self.alias_version(model, CHAMPION), self.alias_version(model, PREVIOUS)
        if champion is None or previous is None:
            raise NothingToRollBack(f"{model}: nothing to roll back to (champion={champion}, previous={previous})")
        self.set_alias(model, CHAMPION, previous)
        self.delete_alias(model, PREVIOUS)
        return champion, previous


def train_or_reuse(
    registry: ModelRegistry,
    model: str,
    training_key: str,
    train: Callable[[], Record],
    reuse: Callable[[Any, str], Record],
) -> Record:
    """Same training key (config, data, base model) -> the run that already trained it, instead of training again:
    a rerun of a date gives the same version and the same metrics, for every kind of model."""
    found = registry.find_registered(model, training_key)
    if found is None:
        return train()
    run, version = found
    log.info("%s: same config and data as run %s (version %s); reusing it", model, run.info.run_id, version)
    # The run that registered the version may have died before tagging it: complete the tags from its run's.
    present = registry.version(model, version).tags
    missing = {k: v for k, v in run.data.tags.items() if not k.startswith("mlflow.") and k not in present}
    if missing:
        log.info("%s version %s: completing tags %s from run %s", model, version, sorted(missing), run.info.run_id)
        registry.tag_version(model, version, missing)
    return reuse(run, version)


def run_tags(ctx: RunContext, training_key: str) -> dict[str, str]:
    """What every training run and registered version carries, so a version can be traced to its run."""
    return {
        "partition_date": ctx.day.isoformat(),
        "run_type": ctx.run_type,
        "airflow_run_id": ctx.airflow_run_id,
        "dag_id": ctx.dag_id,
        "training_key": training_key,
    }


def record_decision(
    decision: Decision, settings: Settings, pipeline: str, mlflow_run_id: str | None = None, name: str = names.DECISION
) -> str:
    """Print, append under REPORTS_URI and attach to the MLflow run: the same JSON in all three places.

    Decisions are audit history: every attempt (a retry, a rerun of the date) keeps its own record, named by
    its time, run and try number; `<name>.json` points at the newest."""
    decision.recorded_at = datetime.now(UTC).isoformat(timespec="microseconds")
    for line in decision.log_lines():
        log.info(line)
    payload = decision.as_dict()
    stamp = decision.recorded_at.replace(":", "").replace("-", "").replace("+0000", "Z")
    attempt = f"{stamp}-{decision.airflow_run_id}-try{decision.try_number}"
    url = Reports.at(settings.reports_uri).append_json(pipeline, decision.date, name, attempt, payload)
    if mlflow_run_id:
        mlflow = configure_mlflow(settings)
        artifact = f"decisions/{decision.date}/{name}/{url.rsplit('/', 1)[-1]}"
        mlflow.MlflowClient().log_dict(mlflow_run_id, payload, artifact)
    return url


def settle_promotion(
    registry: ModelRegistry,
    *,
    model: str,
    registered_model: str,
    pipeline: str,
    ctx: RunContext,
    version: str,
    run_id: str | None,
    policy: PromotionPolicy,
    challenger_metrics: dict[str, float],
    champion_version: str | None,
    champion_metrics: dict[str, float] | None,
    facts: dict[str, Any],
) -> Decision:
    """Gates -> verdict -> alias moves -> one decision record. Shared by every registered model."""
    force_reason = ctx.force_reason
    gates = evaluate_gates(policy, challenger_metrics, champion_metrics, facts)
    verdict, reasons = decide(
        gates=gates,
        challenger_version=version,
        champion_version=champion_version,
        is_backfill=ctx.is_backfill,
        force_reason=force_reason,
        stale_reason=stale_reason(registry, registered_model, champion_version, ctx.day)
        or rolled_back_reason(registry, registered_model, version),
    )
    moved = verdict == "promote" or (verdict == "reject" and not ctx.is_backfill)
    if verdict == "promote":
        if not registry.promote(registered_model, version, champion_version, ctx.airflow_run_id):
            reasons.append(f"the aliases were moved by an earlier attempt of this run; try {ctx.try_number} records it")
    elif moved:
        registry.set_alias(registered_model, CHALLENGER, version)
    decision = Decision(
        model=model,
        registered_model=registered_model,
        date=ctx.day.isoformat(),
        run_type=ctx.run_type,
        airflow_run_id=ctx.airflow_run_id,
        challenger_version=version,
        champion_before=champion_version,
        champion_after=registry.alias_version(registered_model, CHAMPION),
        challenger_metrics=challenger_metrics,
        champion_metrics=champion_metrics,
        gates=gates,
        verdict=verdict,
        reasons=reasons,
        forced=bool(force_reason) and verdict == "promote",
        force_reason=force_reason,
        aliases_moved=moved,
        facts=facts,
        try_number=ctx.try_number,
    )
    record_decision(decision, registry.settings, pipeline, run_id)
    return decision


def rolled_back_reason(registry: ModelRegistry, registered_model: str, version: str) -> str | None:
    """A version someone rolled back never becomes champion again by itself (a rerun, a drift-triggered run
    with the same training key); only a manual force-promote with a written reason can bring it back."""
    rolled_back = registry.version(registered_model, version).tags.get("rolled_back")
    return f"version {version} was rolled back ({rolled_back}); it is not promoted again" if rolled_back else None


def stale_reason(registry: ModelRegistry, registered_model: str, champion: str | None, day: date) -> str | None:
    """A model trained for an earlier date never replaces a champion trained for a later one."""
    if champion is None:
        return None
    champion_day = registry.version(registered_model, champion).tags.get("partition_date")
    if champion_day and champion_day > day.isoformat():
        return f"champion version {champion} was trained for {champion_day}, after this run's date {day}"
    return None
