"""`ml-platform reproduce`: rebuild a registered version from its record and compare it with the original.

The rebuild reads the data it names from the lake, trains with the recorded config (not today's file) into
a scratch folder, and never touches the registry. A match is bit-exact (the model file's hash); when the
hashes differ, every metric must agree within METRIC_TOLERANCE, and the record says why they may differ
(data, code, libraries, machine).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from ml_platform.config.base import parse
from ml_platform.config.tabular import ModelConfig, load_model_config, model_names
from ml_platform.errors import BadInput
from ml_platform.lake import Lake
from ml_platform.provenance import RECORD_ARTIFACT, code_version, explain_differences, library_versions, machine
from ml_platform.registry import ModelRegistry
from ml_platform.settings import Settings

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
    if model not in model_names():
        raise BadInput(f"reproduce knows the tabular models {model_names()}; got {model!r}")
    registered = load_model_config(model).registered_model
    registry = ModelRegistry(settings)
    run_id = registry.version(registered, version).run_id
    try:
        record = registry.mlflow.artifacts.load_dict(f"runs:/{run_id}/{RECORD_ARTIFACT}")
    except Exception as error:  # MLflow raises several kinds for an absent artifact
        raise BadInput(
            f"{registered} version {version} has no {RECORD_ARTIFACT} (trained before records existed)"
        ) from error
    metrics = registry.client.get_run(run_id).data.metrics
    return _reproduce_tabular(settings, record, registered, version, metrics, scratch)


def _reproduce_tabular(
    settings: Settings, record: dict[str, Any], registered: str, version: str, metrics: dict[str, float], scratch: Path
) -> Reproduction:
    from ml_platform.tabular.training import load_training_data, train_and_evaluate

    config = parse(ModelConfig, record["config"], f"the record of {registered} version {version}")
    data = load_training_data(Lake.at(settings.lake_uri), config, date.fromisoformat(record["date"]))
    now = {
        "partitions": data.partitions,
        "code": code_version(settings.project_root),
        "libraries": library_versions(),
        "machine": machine(),
    }
    result = train_and_evaluate(data, config)
    scratch.mkdir(parents=True, exist_ok=True)
    result.model.get_booster().save_model(scratch / "model.ubj")
    return Reproduction(
        model=registered,
        version=version,
        bit_exact=result.model_sha256 == record["model_sha256"],
        metrics={k: (metrics[f"test_{k}"], v) for k, v in result.metrics.items() if f"test_{k}" in metrics},
        why=explain_differences(record, now),
        scratch=str(scratch),
    )
