"""Loading a YAML file onto a typed model, with errors that name the file and the key."""

from __future__ import annotations

import hashlib
import json
import os
from functools import cache
from pathlib import Path
from typing import Any, Self, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from ml_platform.errors import ConfigError


class StrictModel(BaseModel):
    """Frozen, and refuses keys it does not know: a typo in a config is an error, not a silent default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def value_at(self, path: tuple[str, ...]) -> Any:
        """The value at a path of field names, e.g. ("finetune", "lora", "r")."""
        node: Any = self
        for name in path:
            node = getattr(node, name)
        return node

    def with_value(self, path: tuple[str, ...], value: Any) -> Self:
        """A copy with the value at `path` replaced (the nested models on the way are copied too)."""
        head, *rest = path
        return self.model_copy(update={head: getattr(self, head).with_value(tuple(rest), value) if rest else value})

    def fingerprint(self, *, include: Any = None, exclude: Any = None) -> str:
        """Short hash of the model's values: equal configs give equal fingerprints on any machine."""
        payload = self.model_dump(mode="json", include=include, exclude=exclude)
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:12]


Model = TypeVar("Model", bound=BaseModel)


def config_dir() -> Path:
    """PLATFORM_CONFIG_DIR (relative paths against the project root), by default the package's own configs."""
    return _config_dir(os.environ.get("PLATFORM_CONFIG_DIR"), os.environ.get("PLATFORM_ROOT"))


@cache
def _config_dir(configured: str | None, root: str | None) -> Path:
    # Cached on the two variables it depends on: the demo generators ask for it in tight loops.
    from ml_platform.settings import Settings

    return Path(Settings.from_env().config_dir)


def read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML: {error}") from None


def parse(model: type[Model], raw: Any, source: Path | str) -> Model:
    """Validate `raw` (already read) against `model`, strictly: "ten" or "0.1" is not a number, "yes" is not
    a boolean and 10.0 is not a count. Every problem is reported with its key path."""
    try:
        return model.model_validate(_tuples(raw), strict=True)
    except ValidationError as error:
        problems = [_problem(e) for e in error.errors()]
        raise ConfigError(f"{source}: " + "; ".join(problems)) from None


def parse_json(model: type[Model], payload: Any, source: str) -> Model:
    """A config stored as JSON (a version's record) back into its model, as strictly as `parse`; JSON has no
    dates or tuples of its own, and strict JSON validation reads them from their JSON spellings."""
    try:
        return model.model_validate_json(json.dumps(payload), strict=True)
    except ValidationError as error:
        raise ConfigError(f"{source}: " + "; ".join(_problem(e) for e in error.errors())) from None


def _tuples(value: Any) -> Any:
    """YAML lists as tuples: config sequences are immutable, and strict validation takes no list for a tuple."""
    if isinstance(value, dict):
        return {key: _tuples(item) for key, item in value.items()}
    if isinstance(value, list):
        return tuple(_tuples(item) for item in value)
    return value


def _problem(error: Any) -> str:
    where = ".".join(map(str, error["loc"])) or "(top level)"
    given = error.get("input")
    shown = f" (got {given!r})" if isinstance(given, str | int | float | bool) else ""
    return f"{where}: {error['msg']}{shown}"


def load(model: type[Model], relative: str) -> Model:
    """The config file at `relative` (under the config folder) as a `model`, read once per config folder."""
    return _load(model, relative, config_dir())


@cache
def _load(model: type[Model], relative: str, folder: Path) -> Model:
    path = folder / relative
    return parse(model, read_yaml(path), path)


def load_named(model: type[Model], folder: str, name: str, what: str) -> Model:
    """`<folder>/<name>.yaml` (one model or dataset per file); an unknown name lists the known ones."""
    try:
        return load(model, f"{folder}/{name}.yaml")
    except ConfigError:
        if (config_dir() / folder / f"{name}.yaml").is_file():
            raise
        raise ConfigError(f"no {what} {name!r} in {config_dir() / folder}; known: {names_in(folder)}") from None


def names_in(folder: str) -> list[str]:
    """The stems of the YAML files in a config sub-folder (one per model or dataset)."""
    return sorted(p.stem for p in (config_dir() / folder).glob("*.yaml"))
