"""Support-assistant logic that needs no model: config, prompts, scores, checkpoints, question sampling."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from ml_platform.config.assistant import load_assistant_config
from ml_platform.datasets.scenario import Scenario
from ml_platform.datasets.support import generate_support
from ml_platform.errors import ConfigError
from ml_platform.evaluation.assistant import pick_questions, rouge_l, token_f1
from ml_platform.llm.finetune import CheckpointStore, _lr_at
from ml_platform.llm.prompts import (
    Template,
    format_context,
    from_registry,
    load_template,
    messages,
    register,
    system_prompt,
    template_file_text,
    template_path,
)
from ml_platform.registry import ModelRegistry
from ml_platform.storage import LocalStore


def test_config_overrides_and_fingerprint() -> None:
    config = load_assistant_config()
    tuned = config.for_run({"steps": 3, "lora_r": 4, "learning_rate": None, "eval_questions": 6})
    assert (tuned.finetune.steps, tuned.finetune.lora.r, tuned.evaluation.questions) == (3, 4, 6)
    assert tuned.finetune.learning_rate == config.finetune.learning_rate
    assert tuned.training_fingerprint() != config.training_fingerprint()
    assert config.for_run({}).training_fingerprint() == config.training_fingerprint()
    # Evaluation settings do not change what is trained: the same adapter is reused.
    assert config.for_run({"eval_questions": 6}).training_fingerprint() == config.training_fingerprint()
    assert config.promotion.primary_metric == "correctness" and config.promotion.primary_direction == "higher"


def test_prompt_version_is_derived_from_the_template_text(tmp_path) -> None:
    prompt = load_assistant_config().prompt
    template = load_template(prompt)
    assert template.version == f"support-assistant-rag@{template.sha256[:12]}"
    edited = tmp_path / "edited.yaml"
    edited.write_text(template_path(prompt).read_text().replace("one short sentence", "one sentence"))
    changed = load_template(prompt.model_copy(update={"template": str(edited)}))
    assert changed.name == template.name and changed.version != template.version
    # Written back out (as the served model keeps a registered version), it is the same template.
    copy = tmp_path / "copy.yaml"
    copy.write_text(template_file_text(template))
    assert load_template(prompt.model_copy(update={"template": str(copy)})) == template


def test_the_prompt_registry_keeps_one_version_per_template_text(settings) -> None:
    ModelRegistry(settings)  # points MLflow at the test's own tracking store
    template = load_template(load_assistant_config().prompt)
    first, again = register(template), register(template)
    assert first == again and first["registry_version"] == "1" and first["version"] == template.version
    other = Template(template.name, ((template.messages[0][0], "Be brief."), *template.messages[1:]))
    assert register(other)["registry_version"] == "2"
    assert register(template)["registry_version"] == "1"
    assert from_registry(first["uri"]) == template


def test_prompt_keeps_context_within_budget_and_states_the_abstain_answer() -> None:
    context = format_context(["a" * 500, "b" * 500, "c" * 500], max_chars=1200)
    assert context.startswith("[1] ") and "[2] " in context and "[3]" not in context
    assert len(context) <= 1200 + 10
    prompt = load_assistant_config().prompt
    chat = messages(" How much? ", context, prompt)
    assert chat[0]["content"] == system_prompt(prompt) and prompt.abstain_answer in chat[0]["content"]
    assert chat[1]["content"].endswith("Customer question: How much?")


@pytest.mark.parametrize(
    ("prediction", "gold", "f1", "rouge"),
    [
        ("The plan costs $35 per month.", "The plan costs $35 per month.", 1.0, 1.0),
        ("It costs $35.", "The plan costs $35 per month.", 0.444, 0.444),
        ("No idea", "The plan costs $35 per month.", 0.0, 0.0),
        ("", "anything", 0.0, 0.0),
    ],
)
def test_token_f1_and_rouge_l(prediction: str, gold: str, f1: float, rouge: float) -> None:
    assert token_f1(prediction, gold) == pytest.approx(f1, abs=0.01)
    assert rouge_l(prediction, gold) == pytest.approx(rouge, abs=0.01)


def test_rouge_l_rewards_order_token_f1_does_not() -> None:
    assert token_f1("month per $35", "$35 per month") == 1.0
    assert rouge_l("month per $35", "$35 per month") < 0.5


def test_question_sample_is_fixed_for_a_date_a_third_unanswerable_and_rotates_over_days() -> None:
    day = date(2026, 11, 20)
    pool = generate_support(day, 42, Scenario(), eval_questions=270)[0]["support_eval"]
    first, again = pick_questions(pool, 150, 7, day), pick_questions(pool, 150, 7, day)
    pd.testing.assert_frame_equal(first, again)
    assert len(first) == 150 and (~first["answerable"]).sum() == 50 and first["question_id"].is_unique
    # Drawn from a pool that rotates: the next night asks many of the same questions, but not all of them.
    following = pick_questions(pool, 150, 7, date(2026, 11, 21))
    shared = len(set(first["question_id"]) & set(following["question_id"]))
    assert 60 <= shared < 150
    # A pool smaller than asked for gives all it has, without repeating a question.
    small = pick_questions(pool.head(30), 150, 7, day)
    assert len(small) == 30 and small["question_id"].is_unique


def test_checkpoint_store_ignores_a_checkpoint_cut_off_mid_write(tmp_path) -> None:
    store = LocalStore(tmp_path)
    checkpoints = CheckpointStore(store, "ck/run")
    assert checkpoints.latest_step() == 0
    store.put("ck/run/step-000004/state.json", b'{"step": 4, "loss": 1.0}')
    store.put("ck/run/step-000008/adapter_model.safetensors", b"half written")
    assert checkpoints.latest_step() == 4


def test_learning_rate_warms_up_then_decays() -> None:
    finetune = load_assistant_config().finetune.model_copy(
        update={"steps": 10, "warmup_steps": 2, "learning_rate": 0.001}
    )
    rates = [_lr_at(step, finetune) for step in range(10)]
    assert rates[0] < rates[1] == pytest.approx(0.001)
    assert rates[-1] < rates[2] and all(r > 0 for r in rates)


def test_the_gpu_profile_changes_only_sizes(monkeypatch) -> None:
    cpu = load_assistant_config()
    monkeypatch.setenv("ASSISTANT_PROFILE", "gpu")
    gpu = load_assistant_config()
    assert gpu.finetune.steps > cpu.finetune.steps and gpu.evaluation.batch_size > cpu.evaluation.batch_size
    assert gpu.finetune.lora.target_modules == cpu.finetune.lora.target_modules  # laid over, not replaced
    assert gpu.evaluation.questions >= 150 and gpu.prompt.max_context_chars > cpu.prompt.max_context_chars
    for unchanged in ("promotion", "guard", "retrieval", "monitoring", "tables", "schedules"):
        assert getattr(gpu, unchanged) == getattr(cpu, unchanged), unchanged
    monkeypatch.setenv("ASSISTANT_PROFILE", "no-such-profile")
    with pytest.raises(ConfigError, match="no-such-profile"):
        load_assistant_config()


def test_one_row_passes_accumulate_the_whole_batchs_loss_and_gradient() -> None:
    """`micro_batch_size: 1` holds a fraction of the activations, but trains exactly what a whole-batch pass
    would: the same loss, the same gradient (to float rounding), padding cut per pass changing nothing."""
    import numpy as np
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from ml_platform.llm.finetune import _backward, _batch

    torch.manual_seed(0)
    model = LlamaForCausalLM(
        LlamaConfig(vocab_size=40, hidden_size=16, intermediate_size=32, num_hidden_layers=2, num_attention_heads=2)
    )
    rows = [(list(range(2, 2 + n)), [-100] * (n - 3) + list(range(5, 8))) for n in (12, 5, 9, 7)]
    batch = _batch(rows, np.arange(4), 0, 4, pad_id=0)

    def gradient(micro: int) -> tuple[float, list[torch.Tensor]]:
        model.zero_grad()
        loss = _backward(model, batch, micro, torch.device("cpu"))
        return loss, [p.grad.clone() for p in model.parameters()]

    whole_loss, whole = gradient(4)
    split_loss, split = gradient(1)
    assert whole_loss == pytest.approx(split_loss, rel=1e-5)
    assert all(torch.allclose(a, b, atol=1e-6, rtol=1e-4) for a, b in zip(whole, split, strict=True))
