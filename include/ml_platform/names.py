"""Names with exactly one definition: pipelines, the folders their records live in, record files, assets.

A pipeline's name is its DAG id and the folder of its records under REPORTS_URI (`<pipeline>/<date>/`), so
an alert, the run summary and a person browsing the reports all find a run's records in the same place.
Light on purpose: DAG files import it while they are parsed.
"""

from __future__ import annotations

# -- pipelines (= DAG ids = record folders) ----------------------------------------------------------------
INGEST = "ingest_daily"
MONITORING = "model_monitoring"
KB_REFRESH = "kb_embedding_refresh"
LLM_FINETUNE = "llm_finetune"
ROLLBACK = "model_rollback"
SUMMARY = "summary"


_TRAINING = "_training"


def training_pipeline(model: str) -> str:
    """The DAG (and record folder) that trains a tabular model."""
    return f"{model}{_TRAINING}"


def is_training_pipeline(pipeline: str) -> bool:
    """A tabular model's own training DAG: its record folder holds one model's, hence one dataset's, records."""
    return pipeline.endswith(_TRAINING)


# -- record names inside a pipeline's folder of a date (each stored as <name>.json) -------------------------
VALIDATION = "validation"
VALIDATION_RESULT = "validation_result"  # Great Expectations' own result JSON
TRAINING = "training"
DECISION = "decision"
REFRESH = "refresh"
FINETUNE = "finetune"
EVALUATION = "evaluation"
ANSWERS = "answers"
ASSISTANT_MONITORING = "assistant"
DRIFT_TIMELINE = "drift_timeline"


def drift_record(model: str) -> str:
    return f"{model}_drift"


def drift_report(model: str) -> str:
    """Evidently's HTML page beside the drift record."""
    return f"{drift_record(model)}.html"


def rollback_record(model: str) -> str:
    return f"{model}_rollback"


# -- assets (name, uri) ------------------------------------------------------------------------------------
def lake_asset(table: str) -> tuple[str, str]:
    """Updated whenever a partition of `table` lands; its events carry the partition's date."""
    return f"lake.{table}", f"lake://{table}"


def drift_asset(model: str) -> tuple[str, str]:
    """Updated when a model's data drifted; the model's training DAG is scheduled on it."""
    return f"drift.{model}", f"drift://{model}"


def live_index_asset(kb_table: str) -> tuple[str, str]:
    """Updated when an index of the knowledge-base table is made live."""
    return f"vectors.{kb_table}", f"vectors://{kb_table}"
