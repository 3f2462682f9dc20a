"""A fine-tuning process killed mid-run (SIGKILL) resumes from its last checkpoint when retried, and the
resumed steps train exactly as an uninterrupted run would (same batches, same losses)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.reliability import record_fault

pytestmark = [pytest.mark.integration, pytest.mark.slow]

RUN = """
import json, logging, sys, tempfile
from datetime import date
from pathlib import Path
logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
from ml_platform.datasets.scenario import Scenario
from ml_platform.datasets.support import generate_support
from ml_platform.config.assistant import load_assistant_config
from ml_platform.llm.base import load_base, resolve_base_model
from ml_platform.llm.finetune import CheckpointStore, Example, finetune
from ml_platform.llm.prompts import format_context
from ml_platform.settings import Settings
from ml_platform.storage import LocalStore

config = load_assistant_config()
tuning = config.finetune.model_copy(update={"steps": 4, "checkpoint_every": 2, "batch_size": 2, "max_length": 160})
tables, _ = generate_support(date(2026, 11, 20), 42, Scenario())
kb = tables["support_kb"].set_index("article_id")
examples = [Example(r.question, format_context([kb.loc[r.article_id, "body"]], 600), r.answer)
            for r in tables["support_qa"].head(16).itertuples()]
model, tokenizer = load_base(resolve_base_model(config, Settings.from_env()))
result = finetune(model, tokenizer, examples, tuning, config.prompt, CheckpointStore(LocalStore(sys.argv[1]), "ck"),
                  Path(tempfile.mkdtemp()))
print("RESULT " + json.dumps({"resumed_from": result.resumed_from, "losses": result.losses, "history": result.history}),
      flush=True)
"""


def run(store: Path, kill_at_checkpoint: int | None = None) -> dict | None:
    env = os.environ | {"PYTHONUNBUFFERED": "1", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    process = subprocess.Popen(
        [sys.executable, "-c", RUN, str(store)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    if kill_at_checkpoint is not None:
        marker = store / "ck" / f"step-{kill_at_checkpoint:06d}" / "state.json"
        deadline = time.monotonic() + 300
        while not marker.exists():
            assert process.poll() is None, process.stdout.read()
            assert time.monotonic() < deadline, "no checkpoint appeared"
            time.sleep(0.2)
        process.send_signal(signal.SIGKILL)  # a worker lost mid-task, not a polite shutdown
        process.wait()
        return None
    output, _ = process.communicate(timeout=600)
    assert process.returncode == 0, output[-3000:]
    [line] = [line for line in output.splitlines() if line.startswith("RESULT ")]
    return json.loads(line.removeprefix("RESULT ")) | {"log": output}


@pytest.fixture(scope="module")
def straight(tmp_path_factory) -> tuple[Path, dict]:
    """One uninterrupted run: the reference for the resumed one, and the finished run a late retry repeats."""
    store = tmp_path_factory.mktemp("straight")
    uninterrupted = run(store)
    assert uninterrupted["resumed_from"] == 0 and len(uninterrupted["losses"]) == 4
    return store, uninterrupted


def test_killed_finetune_resumes_from_the_last_checkpoint(tmp_path: Path, straight) -> None:
    _, uninterrupted = straight

    run(tmp_path / "killed", kill_at_checkpoint=2)
    assert not (tmp_path / "killed" / "ck" / "step-000004").exists(), "killed too late to prove anything"
    resumed = run(tmp_path / "killed")
    assert "resuming from checkpoint step 2 of 4" in resumed["log"]
    assert resumed["resumed_from"] == 2 and len(resumed["losses"]) == 2
    # Same initial adapter, batches, dropout masks and optimizer state: exactly the uninterrupted run's losses.
    assert resumed["losses"] == uninterrupted["losses"][2:]
    # The history is the killed attempt's checkpointed losses, then this attempt's: exactly, not approximately.
    checkpointed = json.loads((tmp_path / "killed" / "ck" / "step-000002" / "state.json").read_text())["losses"]
    assert resumed["history"] == checkpointed + resumed["losses"] and len(checkpointed) == 2
    record_fault(
        "kill_finetune",
        fault="SIGKILL during LoRA fine-tuning (after checkpoint 2 of 4)",
        retried="the finetune task, from its last checkpoint (same batches, same optimizer state)",
        saw="resuming from checkpoint step 2 of 4; a loss history that joins the killed attempt's to the retry's",
        lost="the steps after the last checkpoint, recomputed; nothing else",
    )


def test_a_retry_after_the_last_checkpoint_keeps_the_loss_history(straight) -> None:
    # A task that failed after its last checkpoint (registration, say) trains nothing when retried; it must
    # still report the run's losses rather than fail on an empty list.
    store, done = straight
    retried = run(store)
    assert retried["resumed_from"] == 4 and retried["losses"] == []
    assert retried["history"] == done["history"] == done["losses"]
