"""Typed config of the support assistant (`configs/llm/support_assistant.yaml`). YAML only: cheap to import."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, replace
from functools import cache
from typing import Any

import yaml

from ml_platform.catalog import CONFIG_DIR
from ml_platform.policy import PromotionPolicy


@dataclass(frozen=True)
class FinetuneConfig:
    steps: int
    batch_size: int
    max_length: int
    learning_rate: float
    warmup_steps: int
    checkpoint_every: int
    train_pairs: int
    abstain_share: float
    seed: int
    lora_r: int
    lora_alpha: int
    lora_dropout: float
    target_modules: tuple[str, ...]


@dataclass(frozen=True)
class AssistantConfig:
    name: str
    registered_model: str
    description: str
    schedules: dict[str, str]
    base_model_name: str
    gguf_package: str
    gguf_version: str
    gguf_file: str
    max_context_chars: int
    k: int
    hit_rate_floor: float
    finetune: FinetuneConfig
    eval_questions: int
    max_new_tokens: int
    price_in: float
    price_out: float
    promotion: PromotionPolicy
    chat_sample: int = 12
    hallucination_alert: float = 0.35
    latency_p95_alert_s: float = 8.0
    embedding_drift_alert: bool = True
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def pipeline(self) -> str:
        return "llm_finetune"

    def with_overrides(self, **finetune: Any) -> AssistantConfig:
        """A manual run's form values (steps, learning_rate, lora_r, train_pairs ...); None keeps the file's."""
        given = {k: v for k, v in finetune.items() if v is not None and k not in ("eval_questions",)}
        tuned = replace(self, finetune=replace(self.finetune, **given))
        if finetune.get("eval_questions"):
            tuned = replace(tuned, eval_questions=int(finetune["eval_questions"]))
        return tuned

    def fingerprint(self) -> str:
        from ml_platform.llm.prompts import PROMPT_VERSION

        material = {
            "finetune": asdict(self.finetune),
            "base": self.base_model_name,
            "prompt": PROMPT_VERSION,
            "k": self.k,
            "context": self.max_context_chars,
        }
        return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()[:12]


@cache
def load_assistant_config() -> AssistantConfig:
    raw = yaml.safe_load((CONFIG_DIR / "llm" / "support_assistant.yaml").read_text())
    ft, lora, ev = raw["finetune"], raw["finetune"]["lora"], raw["evaluation"]
    return AssistantConfig(
        name=raw["name"],
        registered_model=raw["registered_model"],
        description=raw["description"],
        schedules=raw["schedules"],
        base_model_name=raw["base_model"]["name"],
        gguf_package=raw["base_model"]["gguf_wheel"]["package"],
        gguf_version=raw["base_model"]["gguf_wheel"]["version"],
        gguf_file=raw["base_model"]["gguf_wheel"]["file"],
        max_context_chars=int(raw["prompt"]["max_context_chars"]),
        k=int(raw["retrieval"]["k"]),
        hit_rate_floor=float(raw["retrieval"]["hit_rate_floor"]),
        finetune=FinetuneConfig(
            steps=int(ft["steps"]),
            batch_size=int(ft["batch_size"]),
            max_length=int(ft["max_length"]),
            learning_rate=float(ft["learning_rate"]),
            warmup_steps=int(ft["warmup_steps"]),
            checkpoint_every=int(ft["checkpoint_every"]),
            train_pairs=int(ft["train_pairs"]),
            abstain_share=float(ft.get("abstain_share", 0.25)),
            seed=int(ft["seed"]),
            lora_r=int(lora["r"]),
            lora_alpha=int(lora["alpha"]),
            lora_dropout=float(lora["dropout"]),
            target_modules=tuple(lora["target_modules"]),
        ),
        eval_questions=int(ev["questions"]),
        max_new_tokens=int(ev["max_new_tokens"]),
        price_in=float(ev["price_per_1k_input_tokens"]),
        price_out=float(ev["price_per_1k_output_tokens"]),
        promotion=PromotionPolicy.from_config(raw["promotion"]),
        chat_sample=int(raw.get("monitoring", {}).get("chat_sample", 12)),
        hallucination_alert=float(raw.get("monitoring", {}).get("hallucination_alert", 0.35)),
        latency_p95_alert_s=float(raw.get("monitoring", {}).get("latency_p95_alert_s", 8.0)),
        embedding_drift_alert=bool(raw.get("monitoring", {}).get("embedding_drift_alert", True)),
        raw=raw,
    )
