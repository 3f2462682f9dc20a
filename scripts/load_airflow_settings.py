"""Load airflow_settings.yaml (Astro CLI format) into the configured Airflow metadata DB.

Translates the file into the JSON that `airflow pools|variables|connections import` read, so the same file
configures `astro dev start`, docker-compose and the embedded `make airflow`. Safe to rerun: it overwrites.

Connections are loaded only with `--connections`: they point at a deployment's services (MinIO, the MLflow
server, Weaviate), which the embedded mode does not run; there every location comes from the environment.
Their secrets never live in this file: a deployment sets them through `AIRFLOW_CONN_*` or a secrets backend.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml


def translate(settings: dict) -> dict[str, dict]:
    section = settings.get("airflow", {})
    connections = {
        c["conn_id"]: {
            "conn_type": c.get("conn_type"),
            "host": c.get("conn_host"),
            "schema": c.get("conn_schema"),
            "login": c.get("conn_login"),
            "password": c.get("conn_password"),
            "port": c.get("conn_port"),
            "extra": json.dumps(c.get("conn_extra") or {}),
        }
        for c in section.get("connections") or []
    }
    pools = {
        p["pool_name"]: {
            "slots": p["pool_slot"],
            "description": p.get("pool_description", ""),
            "include_deferred": False,
        }
        for p in section.get("pools") or []
    }
    variables = {v["variable_name"]: v.get("variable_value", "") for v in section.get("variables") or []}
    return {"connections": connections, "pools": pools, "variables": variables}


def forget_connections(conn_ids: list[str]) -> None:
    """Embedded mode: delete these ids where an earlier version of this script loaded them (it did, pointing
    at localhost services that do not run here), or every task would resolve them instead of the environment."""
    from airflow.models import Connection
    from airflow.utils.session import create_session

    with create_session() as session:
        stale = session.query(Connection).filter(Connection.conn_id.in_(conn_ids)).all()
        for connection in stale:
            session.delete(connection)
    if stale:
        print(f"removed connections left by an earlier setup: {', '.join(c.conn_id for c in stale)}")


def main(*argv: str) -> int:
    args = [a for a in argv if not a.startswith("--")]
    path = args[0] if args else "airflow_settings.yaml"
    parts = translate(yaml.safe_load(Path(path).read_text()))
    if "--connections" not in argv:
        forget_connections(sorted(parts.pop("connections")))
    airflow = str(Path(sys.executable).with_name("airflow"))
    commands = {
        "connections": ["connections", "import", "--overwrite"],
        "pools": ["pools", "import"],
        "variables": ["variables", "import", "-a", "overwrite"],
    }
    with tempfile.TemporaryDirectory() as tmp:
        for kind, payload in parts.items():
            if not payload:
                continue
            file = Path(tmp) / f"{kind}.json"
            file.write_text(json.dumps(payload))
            subprocess.run([airflow, *commands[kind], str(file)], check=True, stdout=subprocess.DEVNULL)
            print(f"loaded {len(payload)} {kind} from {path}: {', '.join(payload)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(*sys.argv[1:]))
