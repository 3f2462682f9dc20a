"""Create the embedded Airflow's admin password once, print it once, and never commit it.

SimpleAuthManager reads `{"admin": "<password>"}` from AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path


def main() -> int:
    path = Path(os.environ["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"])
    if path.exists():
        print(f"Airflow UI: http://localhost:8080  user admin, password in {path}")
        return 0
    password = secrets.token_urlsafe(12)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"admin": password}))
    path.chmod(0o600)
    print(f"Airflow UI: http://localhost:8080  user admin  password {password}  (shown once; stored in {path})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
