"""ml_platform: the domain logic of the nightly MLOps / LLMOps loop. Plain Python; never imports Airflow.

Keep this file light (os only): DAG files import small pieces of the package at parse time.
"""

import os

# MLflow's usage telemetry off unless a user turns it on: nothing leaves the platform unasked, and its
# background thread sets and unsets a variable in os.environ while request threads iterate os.environ, which
# failed a training task against an MLflow server with KeyError('_MLFLOW_TELEMETRY_SESSION_ID').
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
