"""The nightly chain for one date, step by step as the DAG tasks call them, in the stores the environment names.

Usage: python chain_driver.py DAY. Lands demo churn for the days before DAY and the help centre for DAY, then
runs churn's validate, train and decide, the index refresh, and the assistant's fine-tune (small), evaluation
and decision. Prints `RESULT {json}` with every decision, metric and model hash, for comparing two runs.
"""

from __future__ import annotations

import json
import sys
from datetime import date, timedelta

SMALL = {"steps": 2, "train_pairs": 8, "eval_questions": 4}
HISTORY = 3
# Wall-clock measurements: they describe the machine, not the model, and differ on every run.
TIMED = ("latency", "seconds", "per_s")


def untimed(metrics: dict[str, float]) -> dict[str, float]:
    return {k: v for k, v in metrics.items() if not any(t in k for t in TIMED)}


def main(day: date) -> dict:
    from ml_platform.config.assistant import load_assistant_config
    from ml_platform.config.pipelines import load_ingest_config
    from ml_platform.config.tabular import load_model_config
    from ml_platform.pipelines import assistant, ingest, retrieval, tabular
    from ml_platform.run_context import RunContext
    from ml_platform.settings import Settings

    settings = Settings.from_env()
    groups = load_ingest_config().groups
    for offset in range(HISTORY, -1, -1):
        earlier = day - timedelta(days=offset)
        ingest.ingest_step(groups["churn"], settings, RunContext(earlier, "scheduled", f"scheduled__{earlier}"))
    ctx = RunContext(day, "scheduled", f"scheduled__{day}")
    ingest.ingest_step(groups["support"], settings, ctx)

    churn = load_model_config("churn")
    validation = tabular.validate_step(churn, settings, ctx)
    trained = tabular.train_step(churn, settings, ctx)
    churn_decision = tabular.decide_step(churn, settings, ctx, trained, validation)

    config = load_assistant_config().for_run(SMALL)
    index = retrieval.refresh_step(config, settings, ctx)
    tuned = assistant.finetune_step(config, settings, ctx)
    evaluation = assistant.evaluate_step(config, settings, ctx, tuned)
    assistant_decision = assistant.decide_step(config, settings, ctx, tuned, evaluation)
    return {
        "churn": {
            "verdict": churn_decision["verdict"],
            "metrics": trained["metrics"],
            "threshold": trained["threshold"],
            "model_sha256": trained["model_sha256"],
        },
        "index": {k: index[k] for k in ("index_name", "live_after", "hit_rate", "embedded")},
        "assistant": {
            "verdict": assistant_decision["verdict"],
            "reasons": assistant_decision["reasons"],
            "losses": [tuned["finetune"]["first_loss"], tuned["finetune"]["final_loss"]],
            "adapter_sha256": tuned["adapter_sha256"],
            "metrics": {label: untimed(m) for label, m in evaluation["models"].items()},
        },
    }


if __name__ == "__main__":
    print("RESULT " + json.dumps(main(date.fromisoformat(sys.argv[1])), sort_keys=True), flush=True)
