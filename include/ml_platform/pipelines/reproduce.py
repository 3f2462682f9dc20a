"""`ml-platform reproduce`: rebuild a registered version from its record and compare it with the original.

The rebuild reads the data it names from the lake by content hash (the live partition, an earlier version
or a quarantined copy; rows no longer there stop it, by name), trains with the recorded config (not today's
file) into a scratch folder, and never touches the registry. A match is bit-exact (the model file's hash);
when the hashes differ, every metric must agree within METRIC_TOLERANCE, and the record says why they may differ
(data, code, libraries, machine).
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from ml_platform.config.assistant import AssistantConfig, load_assistant_config
from ml_platform.config.base import parse_json
from ml_platform.config.tabular import ModelConfig, load_model_config, model_names
from ml_platform.errors import BadInput, PartitionMissing
from ml_platform.lake import Lake
from ml_platform.provenance import (
    RECORD_ARTIFACT,
    code_version,
    explain_differences,
    library_versions,
    machine,
    sha256_files,
)
from ml_platform.registry import ModelRegistry
from ml_platform.settings import Settings

if TYPE_CHECKING:
    from ml_platform.llm.finetune import CheckpointStore

log = logging.getLogger(__name__)
METRIC_TOLERANCE = 1e-6  # absolute, for a rebuild that is not bit-exact (another machine's float rounding)


@dataclass
class Reproduction:
    model: str
    version: str
    bit_exact: bool
    metrics: dict[str, tuple[float, float]] = field(default_factory=dict)  # name -> (registered, rebuilt)
    why: list[str] = field(default_factory=list)
    scratch: str = ""

    @property
    def metrics_match(self) -> bool:
        return all(abs(a - b) <= METRIC_TOLERANCE for a, b in self.metrics.values())

    @property
    def reproduced(self) -> bool:
        return self.bit_exact or (self.metrics_match and bool(self.metrics))

    def lines(self) -> list[str]:
        head = "REPRODUCED" if self.reproduced else "NOT REPRODUCED"
        exact = "bit-exact (same model file hash)" if self.bit_exact else "model file differs"
        out = [f"{self.model} version {self.version}: {head}, {exact}; rebuilt into {self.scratch}"]
        for name, (registered, rebuilt) in sorted(self.metrics.items()):
            same = "ok " if abs(registered - rebuilt) <= METRIC_TOLERANCE else "DIFF"
            out.append(f"  {same} {name:<20} registered {registered:.6f}  rebuilt {rebuilt:.6f}")
        out += [f"  why: {reason}" for reason in self.why] or [
            "  inputs: data, code, libraries and machine as recorded"
        ]
        return out


def reproduce(settings: Settings, model: str, version: str, scratch: Path) -> Reproduction:
    assistant = load_assistant_config()
    known = [*model_names(), assistant.name]
    if model not in known:
        raise BadInput(f"reproduce knows the models {known}; got {model!r}")
    registered = assistant.registered_model if model == assistant.name else load_model_config(model).registered_model
    registry = ModelRegistry(settings)
    run_id = registry.version(registered, version).run_id
    try:
        record = registry.mlflow.artifacts.load_dict(f"runs:/{run_id}/{RECORD_ARTIFACT}")
    except Exception as error:  # MLflow raises several kinds for an absent artifact
        raise BadInput(
            f"{registered} version {version} has no {RECORD_ARTIFACT} (trained before records existed)"
        ) from error
    metrics = registry.client.get_run(run_id).data.metrics
    rebuild = _reproduce_assistant if record["kind"] == "assistant" else _reproduce_tabular
    return rebuild(settings, record, registered, version, metrics, scratch)


def _inputs_now(settings: Settings, partitions: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "partitions": partitions,
        "code": code_version(settings.project_root),
        "libraries": library_versions(),
        "machine": machine(),
    }


def recorded_frames(lake: Lake, partitions: list[dict[str, Any]]) -> tuple[dict[date, pd.DataFrame], list[str]]:
    """Each recorded partition's rows, found by content hash wherever the lake keeps them now (live, an
    earlier version, quarantine). Rows the lake no longer holds are a difference to report: today's rows
    of that day would rebuild another model and call it a reproduction."""
    frames, gone = {}, []
    for p in partitions:
        try:
            frames[date.fromisoformat(p["dt"])] = lake.read_hash(p["dataset"], p["dt"], p["content_hash"])
        except PartitionMissing:
            gone.append(
                f"partition {p['dataset']} dt={p['dt']}: recorded hash {p['content_hash']} no longer in the lake"
            )
    return frames, gone


def _live_partitions(lake: Lake, partitions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What the lake holds live today for each recorded partition (a hash of None: none)."""
    return [
        p
        | {
            "content_hash": lake.info(p["dataset"], p["dt"]).content_hash
            if lake.exists(p["dataset"], p["dt"])
            else None
        }
        for p in partitions
    ]


def _recorded_data(
    settings: Settings, lake: Lake, record: dict[str, Any]
) -> tuple[list[str], dict[date, pd.DataFrame] | None]:
    """(why the rebuild may differ, the recorded partitions' rows; None when some are gone). The data is the
    recorded data, or the rebuild stops: only code, libraries and machine can differ. A day whose live rows
    changed since is still named, with where its recorded rows came from."""
    frames, gone = recorded_frames(lake, record["partitions"])
    changed = explain_differences(record, _inputs_now(settings, _live_partitions(lake, record["partitions"])))
    kept = "; rebuilt from the recorded rows, which the lake keeps"
    why = gone + [line + kept if line.startswith("changed data") and not gone else line for line in changed]
    return why, None if gone else frames


def _reproduce_tabular(
    settings: Settings, record: dict[str, Any], registered: str, version: str, metrics: dict[str, float], scratch: Path
) -> Reproduction:
    from ml_platform.tabular.training import split_days, train_and_evaluate

    config = parse_json(ModelConfig, record["config"], f"the record of {registered} version {version}")
    lake = Lake.at(settings.lake_uri)
    why, frames = _recorded_data(settings, lake, record)
    if frames is None:
        return Reproduction(model=registered, version=version, bit_exact=False, why=why, scratch=str(scratch))
    data = split_days(config, frames, date.fromisoformat(record["date"]), record["partitions"])
    result = train_and_evaluate(data, config)
    scratch.mkdir(parents=True, exist_ok=True)
    result.model.get_booster().save_model(scratch / "model.ubj")
    return Reproduction(
        model=registered,
        version=version,
        bit_exact=result.model_sha256 == record["model_sha256"],
        metrics={k: (metrics[f"test_{k}"], v) for k, v in result.metrics.items() if f"test_{k}" in metrics},
        why=why,
        scratch=str(scratch),
    )


def _reproduce_assistant(
    settings: Settings, record: dict[str, Any], registered: str, version: str, metrics: dict[str, float], scratch: Path
) -> Reproduction:
    """Fine-tune again from the recorded config, Q&A rows (by content hash), index and base model; compare the
    adapter's weights."""
    from ml_platform.llm.base import load_base, resolve_base_model
    from ml_platform.llm.examples import training_examples
    from ml_platform.llm.finetune import finetune
    from ml_platform.retrieval.index import Retriever
    from ml_platform.retrieval.stores import open_vector_store

    config = parse_json(AssistantConfig, record["config"], f"the record of {registered} version {version}")
    lake, day = Lake.at(settings.lake_uri), date.fromisoformat(record["date"])
    why, frames = _recorded_data(settings, lake, record)
    if frames is None:
        return Reproduction(model=registered, version=version, bit_exact=False, why=why, scratch=str(scratch))
    qa = frames[day]
    base = resolve_base_model(config, settings)
    if base.sha256 != record["base_model_sha256"]:
        why.append(
            f"changed base model: {record['base_model']} {record['base_model_sha256'][:12]} -> {base.sha256[:12]}"
        )
    store = open_vector_store(settings.vector_store_uri)
    if record["index_version"] not in store.list_indexes():
        store.close()
        why.append(f"changed data: index {record['index_version']} is no longer in {settings.vector_store_uri}")
        return Reproduction(model=registered, version=version, bit_exact=False, why=why, scratch=str(scratch))
    retriever = Retriever(store, record["index_version"])
    try:
        examples, _ = training_examples(qa, retriever, config)
    finally:
        retriever.close()
    model, tokenizer = load_base(base)
    result = finetune(model, tokenizer, examples, config.finetune, config.prompt, fresh_checkpoints(scratch), scratch)
    rebuilt = {"train_loss_first": result.history[0], "train_loss_final": result.history[-1]}
    return Reproduction(
        model=registered,
        version=version,
        bit_exact=sha256_files(result.adapter_dir, ("adapter_model.safetensors",)) == record["model_sha256"],
        metrics={k: (metrics[k], v) for k, v in rebuilt.items() if k in metrics},
        why=why,
        scratch=str(scratch),
    )


def fresh_checkpoints(scratch: Path) -> CheckpointStore:
    """An empty checkpoint store in `scratch`: fine-tuning resumes from any checkpoint it finds, so one left by
    an earlier reproduce of the same version would turn the rebuild into a reload of that earlier result."""
    from ml_platform.llm.finetune import CheckpointStore
    from ml_platform.storage import LocalStore

    for leftover in ("checkpoints", "adapter"):  # only what this module writes: --scratch may hold other files
        shutil.rmtree(scratch / leftover, ignore_errors=True)
    scratch.mkdir(parents=True, exist_ok=True)
    return CheckpointStore(LocalStore(scratch / "checkpoints"), "ck")
