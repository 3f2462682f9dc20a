"""What a registered version was built from, complete enough to rebuild it and to say why a rebuild differs.

Every training run logs one record (`reproduce/record.json` in its MLflow run): the config and its hash,
the data partitions with their content hashes, the code version, the libraries that shape the result,
seeds, the model file's hash, and the machine. `ml-platform reproduce` rebuilds from it and compares.
"""

from __future__ import annotations

import hashlib
import os
import platform
import subprocess
import sys
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from typing import Any

RECORD_ARTIFACT = "reproduce/record.json"
# The libraries whose version can change a trained model or its metrics.
LIBRARIES = (
    "xgboost",
    "scikit-learn",
    "numpy",
    "pandas",
    "pyarrow",
    "torch",
    "transformers",
    "peft",
    "tokenizers",
    "fastembed",
    "onnxruntime",
    "great-expectations",
    "evidently",
    "mlflow",
)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_files(folder: Path, names: tuple[str, ...]) -> str:
    """One hash over named files of a folder, in a fixed order (an adapter's weights and config, say)."""
    digest = hashlib.sha256()
    for name in sorted(names):
        digest.update(name.encode())
        digest.update((folder / name).read_bytes())
    return digest.hexdigest()


def code_version(root: Path) -> dict[str, Any]:
    """The git commit of the code that ran, and whether the tree had uncommitted changes."""

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=20)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit or "unknown", "dirty": bool(status) if status is not None else None}


def library_versions(names: Iterable[str] = LIBRARIES) -> dict[str, str]:
    found = {}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def machine() -> dict[str, Any]:
    facts: dict[str, Any] = {
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "device": "cpu",
    }
    if "torch" in sys.modules:  # only where a torch model was trained: importing it costs seconds
        import torch

        facts["torch_threads"] = torch.get_num_threads()
        if torch.cuda.is_available():
            facts["device"] = torch.cuda.get_device_name(0)
    return facts


def build_record(
    *,
    kind: str,
    model: str,
    date: str,
    config: dict[str, Any],
    config_hash: str,
    partitions: list[dict[str, Any]],
    seeds: dict[str, int],
    model_sha256: str,
    root: Path,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "kind": kind,
        "model": model,
        "date": date,
        "config": config,
        "config_hash": config_hash,
        "partitions": [{k: p[k] for k in ("dataset", "dt", "content_hash", "role") if k in p} for p in partitions],
        "seeds": seeds,
        "model_sha256": model_sha256,
        "code": code_version(root),
        "libraries": library_versions(),
        "machine": machine(),
        **(extra or {}),
    }


def explain_differences(recorded: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """Why a rebuild may differ: each input of the record that is not what it was, in words."""
    lines = []
    was = {(p["dataset"], p["dt"]): p["content_hash"] for p in recorded["partitions"]}
    now = {(p["dataset"], p["dt"]): p.get("content_hash") for p in current["partitions"]}
    for key in sorted(was):
        if now.get(key) != was[key]:
            found = now.get(key) or "missing"
            lines.append(f"changed data: {key[0]}/dt={key[1]} was {was[key]}, is {found}")
    lines += [f"changed data: {d}/dt={dt} is new in the window" for d, dt in sorted(set(now) - set(was))]
    if recorded["code"]["commit"] != current["code"]["commit"]:
        lines.append(f"changed code: commit {recorded['code']['commit'][:12]} -> {current['code']['commit'][:12]}")
    if current["code"].get("dirty"):
        lines.append("changed code: the working tree has uncommitted changes")
    for name in sorted(set(recorded["libraries"]) | set(current["libraries"])):
        before, after = recorded["libraries"].get(name), current["libraries"].get(name)
        if before != after:
            lines.append(f"changed library: {name} {before or 'absent'} -> {after or 'absent'}")
    for fact in ("cores", "torch_threads", "device"):
        before, after = recorded["machine"].get(fact), current["machine"].get(fact)
        if before is not None and after is not None and before != after:
            lines.append(f"different machine: {fact} {before} -> {after}")
    return lines
