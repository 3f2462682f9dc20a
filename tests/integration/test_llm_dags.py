"""kb_embedding_refresh then llm_finetune end to end on CPU: a real LanceDB index, a real LoRA fine-tune of
SmolLM2-135M, evaluation through the RAG path, and a `support-assistant` champion in MLflow."""

from __future__ import annotations

import json
import subprocess
from datetime import date, timedelta
from pathlib import Path

import pytest

from ml_platform.reports import Reports

pytestmark = [pytest.mark.integration, pytest.mark.slow]
DAY = date(2026, 7, 10)
SMALL = {"steps": 2, "train_pairs": 16, "eval_questions": 4}


@pytest.fixture(scope="module")
def support_days(embedded_airflow):
    bin_dir = Path(embedded_airflow.env["PATH"].split(":")[0])
    for day in (DAY, DAY + timedelta(days=3)):
        subprocess.run(
            [str(bin_dir / "ml-platform"), "ingest", "support", "--date", day.isoformat(), "--source", "demo"],
            env=embedded_airflow.env,
            check=True,
            capture_output=True,
            timeout=300,
        )
    return embedded_airflow


def refresh_record(airflow, day: date) -> dict:
    path = Path(airflow.env["REPORTS_URI"]) / "kb_embedding_refresh" / day.isoformat() / "refresh.json"
    return json.loads(path.read_text())


def test_refresh_then_rerun_embeds_nothing_new(support_days) -> None:
    support_days.cli("dags", "test", "kb_embedding_refresh", DAY.isoformat())
    first = refresh_record(support_days, DAY)
    assert first["promoted"] and first["embedded"] == first["chunks_total"] > 0
    support_days.cli("dags", "test", "kb_embedding_refresh", DAY.isoformat())
    again = refresh_record(support_days, DAY)
    assert again["embedded"] == 0 and again["chunks_total"] == first["chunks_total"]


def test_finetune_registers_a_champion_with_hallucination_metrics(support_days) -> None:
    import mlflow

    support_days.cli("dags", "test", "llm_finetune", DAY.isoformat(), "-c", json.dumps(SMALL))
    mlflow.set_tracking_uri(support_days.env["MLFLOW_TRACKING_URI"])
    client = mlflow.MlflowClient()
    decision = Reports.at(support_days.env["REPORTS_URI"]).read_json("llm_finetune", DAY, "decision")
    version = client.get_model_version("support-assistant", decision["challenger_version"])
    for tag in ("base_model", "base_model_sha256", "prompt_version", "index_version"):
        assert version.tags[tag], tag
    run = client.get_run(version.run_id)
    for label in ("base", "challenger"):
        assert f"{label}_hallucination_rate" in run.data.metrics
        assert f"{label}_token_f1" in run.data.metrics
    assert "challenger_cost_per_1k_answers_usd" in run.data.metrics
    if decision["verdict"] == "promote":
        assert client.get_registered_model("support-assistant").aliases["champion"] == version.version
    else:
        assert decision["verdict"] == "reject" and decision["reasons"]
