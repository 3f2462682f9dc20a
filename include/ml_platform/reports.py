"""Where steps leave what they decided and measured: `REPORTS_URI/<pipeline>/<YYYY-MM-DD>/<name>`.

Every path is a function of (pipeline, date, name), so rerunning a date overwrites its own records and
nothing else, and the run summary can be rebuilt from storage alone, without Airflow's XComs.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from ml_platform.dates import as_date
from ml_platform.storage import ObjectStore, open_store


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
        return json.loads(self.store.get(self.key(pipeline, day, f"{name}.json")))
