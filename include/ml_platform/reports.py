"""Where steps leave what they decided and measured: `REPORTS_URI/<pipeline>/<YYYY-MM-DD>/<name>`.

Every path is a function of (pipeline, date, name), so rerunning a date overwrites its own records and
nothing else, and the run summary can be rebuilt from storage alone, without Airflow's XComs. Audit records
(decisions) are appended instead: each attempt keeps its own file under `<date>/history/<name>/`, and
`<name>.json` is only a pointer to the newest, which the readers here follow.
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

from ml_platform.dates import as_date
from ml_platform.storage import ObjectStore, open_store

_LATEST = "latest_attempt"


def _safe(name: str) -> str:
    """Airflow run ids carry ':' and '+'; object keys keep to letters, digits and `._-`."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)


class Reports:
    def __init__(self, store: ObjectStore):
        self.store = store

    @classmethod
    def at(cls, uri: str) -> Reports:
        return cls(open_store(uri))

    @staticmethod
    def key(pipeline: str, day: date | str, name: str) -> str:
        return f"{pipeline}/{as_date(day).isoformat()}/{name}"

    def url(self, pipeline: str, day: date | str, name: str) -> str:
        return self.store.url(self.key(pipeline, day, name))

    def folder_url(self, pipeline: str, day: date | str) -> str:
        """Where a pipeline's records of a date live (what an alert points at)."""
        return self.store.url(self.key(pipeline, day, "")).rstrip("/") + "/"

    def find_json(self, pipeline: str, day: date | str, name: str) -> dict[str, Any] | None:
        """A record, or None when that step has not written it."""
        try:
            return self.read_json(pipeline, day, name)
        except KeyError:
            return None

    def write_bytes(self, pipeline: str, day: date | str, name: str, data: bytes) -> str:
        key = self.key(pipeline, day, name)
        self.store.put(key, data)
        return self.store.url(key)

    def write_json(self, pipeline: str, day: date | str, name: str, payload: dict[str, Any]) -> str:
        data = json.dumps(payload, indent=2, default=str).encode()
        return self.write_bytes(pipeline, day, f"{name}.json", data)

    def read_json(self, pipeline: str, day: date | str, name: str) -> dict[str, Any]:
        payload = json.loads(self.store.get(self.key(pipeline, day, f"{name}.json")))
        if set(payload) == {_LATEST}:
            return json.loads(self.store.get(payload[_LATEST]))
        return payload

    def append_json(self, pipeline: str, day: date | str, name: str, attempt: str, payload: dict[str, Any]) -> str:
        """Keep `payload` as one more attempt of an audit record (never overwritten), then point `name` at it;
        returns the attempt's URL."""
        key = self.key(pipeline, day, f"history/{name}/{_safe(attempt)}.json")
        if self.store.exists(key):
            raise FileExistsError(f"audit record {self.store.url(key)} exists already: attempts are never replaced")
        self.store.put(key, json.dumps(payload, indent=2, default=str).encode())
        self.store.put(self.key(pipeline, day, f"{name}.json"), json.dumps({_LATEST: key}).encode())
        return self.store.url(key)

    def history(self, pipeline: str, day: date | str, name: str) -> list[dict[str, Any]]:
        """Every attempt of an audit record, oldest first (attempt names start with their UTC time)."""
        keys = self.store.list(self.key(pipeline, day, f"history/{name}/"))
        return [json.loads(self.store.get(k)) for k in keys if k.endswith(".json")]
