"""The support assistant's config (`llm/support_assistant.yaml`): base model, prompt, retrieval, fine-tuning,
evaluation, promotion and production monitoring."""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import Field

from ml_platform import names
from ml_platform.config.base import StrictModel, config_dir, load, parse, read_yaml
from ml_platform.config.forms import FormField
from ml_platform.config.policy import PromotionPolicy


class GGUFWheel(StrictModel):
    package: str
    version: str
    file: str


class BaseModelSource(StrictModel):
    name: str
    gguf_wheel: GGUFWheel


class Prompt(StrictModel):
    template: str  # file under configs/llm/prompts/ (or an absolute path); its version is derived from its text
    max_context_chars: int = Field(ge=100)
    abstain_answer: str  # what the assistant says when the context does not hold the answer


class Retrieval(StrictModel):
    k: int = Field(ge=1)
    hit_rate_floor: float = Field(ge=0, le=1)


class Lora(StrictModel):
    r: int = Field(ge=1)
    alpha: int = Field(ge=1)
    dropout: float = Field(ge=0, lt=1)
    target_modules: tuple[str, ...]


class Finetune(StrictModel):
    steps: int = Field(ge=1)
    batch_size: int = Field(ge=1)
    # Rows per forward/backward pass; the batch's gradient is accumulated over them. Same gradient, a fraction
    # of the activations in memory.
    micro_batch_size: int = Field(ge=1)
    max_length: int = Field(ge=16)
    learning_rate: float = Field(gt=0)
    warmup_steps: int = Field(ge=0)
    checkpoint_every: int = Field(ge=1)
    train_pairs: int = Field(ge=1)
    abstain_share: float = Field(ge=0, lt=1)
    seed: int
    lora: Lora


class HallucinationDetector(StrictModel):
    # A sentence is unsupported when fewer than this share of its content words occur in the context.
    min_sentence_support: float = Field(gt=0, le=1)
    # Shorter sentences ("Here is what I found:") carry no claim worth judging.
    min_content_words: int = Field(ge=1)
    # A number the context states is misattributed when the context clause closest in meaning to the answer's
    # clause states another value and is closer by more than this (cosine similarity); None: not checked.
    attribution_margin: float | None = Field(default=None, ge=0, le=1)
    # An answer clause contradicts the context when the context clause closest in meaning (at least this cosine
    # similarity) has the opposite polarity (one negated, the other not); None: not checked.
    contradiction_similarity: float | None = Field(default=None, ge=0, le=1)


class Guard(StrictModel):
    """The guarded answer path (ml_platform.llm.answering), used by the evaluation and the served model."""

    # Abstain without generating when the best retrieved passage scores under this (cosine similarity). Set from
    # data by `ml-platform calibrate-abstention`, never by hand.
    min_retrieval_score: float = Field(ge=-1, le=1)
    # Replace an answer the hallucination detector rejects with the abstention.
    replace_unsupported: bool = True


class Evaluation(StrictModel):
    questions: int = Field(ge=2)  # sampled per night from the day's pool, a third unanswerable
    max_new_tokens: int = Field(ge=1)
    batch_size: int = Field(ge=1)  # prompts generated together
    bootstrap_seed: int  # the resampling of every confidence interval
    price_per_1k_input_tokens: float = Field(ge=0)
    price_per_1k_output_tokens: float = Field(ge=0)
    detector: HallucinationDetector


class Monitoring(StrictModel):
    chat_sample: int = Field(ge=1)
    hallucination_alert: float = Field(ge=0, le=1)
    latency_p95_alert_s: float = Field(gt=0)
    embedding_drift_alert: bool
    embedding_drift_threshold: float = Field(gt=0)  # MMD² between the day's questions and the reference


class Tables(StrictModel):
    """The lake tables the assistant reads (each with a schema in datasets/)."""

    kb: str  # help-centre articles, indexed
    qa: str  # question/answer pairs, fine-tuned on
    eval: str  # held-out questions with gold answers
    chats: str  # the day's customer questions, monitored


class Schedules(StrictModel):
    kb_embedding_refresh: str
    llm_finetune: str


class FinetuneForm(StrictModel):
    """Bounds of what a manual llm_finetune run may override; FORM_FIELDS says where each value lives."""

    steps: FormField
    learning_rate: FormField
    lora_r: FormField
    train_pairs: FormField
    eval_questions: FormField


# Each trigger-form field of llm_finetune and the config value it overrides.
FORM_FIELDS: dict[str, tuple[str, ...]] = {
    "steps": ("finetune", "steps"),
    "learning_rate": ("finetune", "learning_rate"),
    "lora_r": ("finetune", "lora", "r"),
    "train_pairs": ("finetune", "train_pairs"),
    "eval_questions": ("evaluation", "questions"),
}


class AssistantConfig(StrictModel):
    name: str
    registered_model: str
    description: str
    start_date: date
    schedules: Schedules
    tables: Tables
    base_model: BaseModelSource
    prompt: Prompt
    retrieval: Retrieval
    guard: Guard
    finetune: Finetune
    evaluation: Evaluation
    promotion: PromotionPolicy
    monitoring: Monitoring
    form: FinetuneForm

    @property
    def pipeline(self) -> str:
        return names.LLM_FINETUNE

    def form_defaults(self) -> dict[str, Any]:
        """The value each trigger-form field overrides, as this config sets it."""
        return {field: self.value_at(path) for field, path in FORM_FIELDS.items()}

    def for_run(self, params: Mapping[str, Any]) -> AssistantConfig:
        """A manual run's form values (None keeps the file's); the file itself never changes."""
        tuned = self
        for field, path in FORM_FIELDS.items():
            if params.get(field) is not None:
                tuned = tuned.with_value(path, params[field])
        return tuned

    def training_fingerprint(self) -> str:
        """What changes the fine-tuned adapter: training settings, the base model's name, the prompt and how
        much context it gets (the base model's weights and the index enter the training key by their hashes)."""
        return self.fingerprint(include={"finetune": True, "base_model": {"name"}, "prompt": True, "retrieval": {"k"}})


CONFIG_FILE = "llm/support_assistant.yaml"
PROFILES_DIR = "llm/profiles"


def load_assistant_config() -> AssistantConfig:
    """The assistant's config; ASSISTANT_PROFILE=<name> lays llm/profiles/<name>.yaml over it (gpu: a larger
    model on a GPU), so a profile states only what differs."""
    return _load_profiled(os.environ.get("ASSISTANT_PROFILE", ""), config_dir())


@functools.cache
def _load_profiled(profile: str, folder: Path) -> AssistantConfig:
    if not profile:
        return load(AssistantConfig, CONFIG_FILE)
    overlay = folder / PROFILES_DIR / f"{profile}.yaml"
    raw = _laid_over(read_yaml(folder / CONFIG_FILE), read_yaml(overlay))
    return parse(AssistantConfig, raw, f"{folder / CONFIG_FILE} + {overlay}")


def _laid_over(base: Any, overlay: Any) -> Any:
    if isinstance(base, dict) and isinstance(overlay, dict):
        return {key: _laid_over(base.get(key), value) for key, value in overlay.items()} | {
            key: value for key, value in base.items() if key not in overlay
        }
    return overlay
