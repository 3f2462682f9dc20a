"""LoRA fine-tuning (PEFT) of the base LLM on grounded RAG examples, resumable from checkpoints.

Checkpoints (adapter, optimizer, step) go to the lake's object store every N steps, so a retried task picks
up where the killed one stopped instead of starting again. Batches are a pure function of (seed, step), so a
resumed run trains on exactly the batches the uninterrupted run would have.
"""

from __future__ import annotations

import io
import json
import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ml_platform.config.assistant import Finetune, Prompt
from ml_platform.errors import NoTrainingData
from ml_platform.llm.prompts import messages
from ml_platform.storage import ObjectStore

log = logging.getLogger(__name__)
ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors")


@dataclass(frozen=True)
class Example:
    question: str
    context: str
    answer: str


@dataclass
class FinetuneResult:
    adapter_dir: Path
    steps: int
    resumed_from: int
    losses: list[float] = field(default_factory=list)  # of the steps this attempt trained
    history: list[float] = field(default_factory=list)  # of every step so far, restored from the checkpoint
    tokens_per_second: float = 0.0
    seconds: float = 0.0
    trainable_parameters: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "steps": self.steps,
            "resumed_from": self.resumed_from,
            "final_loss": self.history[-1] if self.history else None,
            "first_loss": self.history[0] if self.history else None,
            "tokens_per_second": round(self.tokens_per_second, 1),
            "seconds": round(self.seconds, 1),
            "trainable_parameters": self.trainable_parameters,
        }


class CheckpointStore:
    """`<prefix>/step-000012/{adapter files, optimizer.pt, state.json}`; state.json is written last, so a
    checkpoint without it was cut off mid-write and is ignored."""

    def __init__(self, store: ObjectStore, prefix: str):
        self.store, self.prefix = store, prefix.rstrip("/")

    def latest_step(self) -> int:
        done = [k for k in self.store.list(self.prefix + "/") if k.endswith("/state.json")]
        return max((int(k.split("/step-")[1].split("/")[0]) for k in done), default=0)

    def save(self, step: int, adapter_dir: Path, optimizer_state: dict[str, Any], state: dict[str, Any]) -> None:
        import torch

        folder = f"{self.prefix}/step-{step:06d}"
        for name in ADAPTER_FILES:
            self.store.put(f"{folder}/{name}", (adapter_dir / name).read_bytes())
        buffer = io.BytesIO()
        torch.save(optimizer_state, buffer)
        self.store.put(f"{folder}/optimizer.pt", buffer.getvalue())
        self.store.put(f"{folder}/state.json", json.dumps(state).encode())

    def load(self, step: int, into: Path) -> tuple[dict[str, Any], dict[str, Any]]:
        import torch

        folder = f"{self.prefix}/step-{step:06d}"
        into.mkdir(parents=True, exist_ok=True)
        for name in ADAPTER_FILES:
            (into / name).write_bytes(self.store.get(f"{folder}/{name}"))
        optimizer_state = torch.load(io.BytesIO(self.store.get(f"{folder}/optimizer.pt")), weights_only=True)
        return optimizer_state, json.loads(self.store.get(f"{folder}/state.json"))


def encode_example(example: Example, tokenizer, max_length: int, prompt: Prompt) -> tuple[list[int], list[int]]:
    """Token ids and labels; the loss is on the answer only (prompt tokens are masked with -100)."""
    text = tokenizer.apply_chat_template(
        messages(example.question, example.context, prompt), tokenize=False, add_generation_prompt=True
    )
    prompt_ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    answer_ids = tokenizer(example.answer + tokenizer.eos_token, add_special_tokens=False)["input_ids"]
    # Keep the answer whole: cut the prompt's start (the oldest context) when too long.
    prompt_ids = prompt_ids[-(max_length - len(answer_ids)) :]
    return prompt_ids + answer_ids, [-100] * len(prompt_ids) + answer_ids


def _batch(encoded: list[tuple[list[int], list[int]]], order: np.ndarray, step: int, size: int, pad_id: int):
    import torch

    picks = [encoded[order[(step * size + i) % len(order)]] for i in range(size)]
    width = max(len(ids) for ids, _ in picks)
    ids = torch.full((size, width), pad_id, dtype=torch.long)
    labels = torch.full((size, width), -100, dtype=torch.long)
    mask = torch.zeros((size, width), dtype=torch.long)
    for row, (tokens, targets) in enumerate(picks):
        ids[row, : len(tokens)] = torch.tensor(tokens)
        labels[row, : len(targets)] = torch.tensor(targets)
        mask[row, : len(tokens)] = 1
    return ids, labels, mask


def _backward(model, batch, micro: int, device) -> float:
    """Gradients of the batch's loss, accumulated over passes of `micro` rows; returns the batch's loss.

    The model's loss is a mean over target tokens, so each pass is weighted by its share of the batch's
    targets: the sum is the whole batch's mean (and gradient), while only `micro` rows of activations (and of
    logits over the whole vocabulary, the largest part) are held at once. Padding past a pass's longest row is
    cut (right-padded, causal: the other positions do not see it)."""
    ids, labels, mask = batch
    targets = (labels[:, 1:] != -100).sum(dim=1)  # the model shifts labels by one
    total, loss = int(targets.sum()), 0.0
    for start in range(0, len(ids), micro):
        rows = slice(start, start + micro)
        if not int(targets[rows].sum()):
            continue  # nothing to learn in these rows (their mean loss would be 0/0)
        width = int(mask[rows].sum(dim=1).max())
        part_ids, part_labels, part_mask = (t[rows, :width].to(device) for t in batch)
        part = model(input_ids=part_ids, attention_mask=part_mask, labels=part_labels).loss
        weighted = part * (int(targets[rows].sum()) / total)
        weighted.backward()
        loss += weighted.item()
    return loss


def _lr_at(step: int, config: Finetune) -> float:
    if step < config.warmup_steps:
        return config.learning_rate * (step + 1) / config.warmup_steps
    progress = (step - config.warmup_steps) / max(1, config.steps - config.warmup_steps)
    return config.learning_rate * 0.5 * (1 + math.cos(math.pi * progress))


def lora_config(config: Finetune):
    """PEFT's LoraConfig for the config's adapter (shared with the benchmark's bare loop)."""
    from peft import LoraConfig

    return LoraConfig(
        r=config.lora.r,
        lora_alpha=config.lora.alpha,
        lora_dropout=config.lora.dropout,
        target_modules=list(config.lora.target_modules),
        task_type="CAUSAL_LM",
    )


def finetune(
    model,
    tokenizer,
    examples: list[Example],
    config: Finetune,
    prompt: Prompt,
    checkpoints: CheckpointStore,
    workdir: Path,
) -> FinetuneResult:
    """Train a LoRA adapter on `examples`; returns where the final adapter was saved."""
    import torch
    from peft import get_peft_model, set_peft_model_state_dict
    from safetensors.torch import load_file

    if not examples:
        raise NoTrainingData("no training examples: the day's Q&A pairs are empty or all blocked by the guardrails")
    lora = lora_config(config)
    # Kernels with a deterministic variant use it (on the CPU nearly all are); any other warns, never fails.
    torch.use_deterministic_algorithms(True, warn_only=True)
    # LoRA's A matrices start random: seeded, so the same examples and config give the same adapter.
    torch.manual_seed(config.seed)
    peft_model = get_peft_model(model, lora)
    trainable = [p for p in peft_model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=config.learning_rate, weight_decay=0.0)
    encoded = [encode_example(e, tokenizer, config.max_length, prompt) for e in examples]
    order = np.random.default_rng(config.seed).permutation(len(encoded))
    adapter_dir = workdir / "adapter"
    start = checkpoints.latest_step()
    history: list[float] = []
    if start:
        optimizer_state, state = checkpoints.load(start, adapter_dir)
        history = list(state.get("losses", []))
        set_peft_model_state_dict(peft_model, load_file(adapter_dir / "adapter_model.safetensors"))
        optimizer.load_state_dict(optimizer_state)
        log.info("resuming from checkpoint step %d of %d (loss then %.4f)", start, config.steps, state["loss"])
    result = FinetuneResult(
        adapter_dir, config.steps, start, history=history, trainable_parameters=sum(p.numel() for p in trainable)
    )
    peft_model.train()
    device = next(peft_model.parameters()).device  # the GPU's when load_base put the model there
    started, tokens = time.perf_counter(), 0
    for step in range(start, config.steps):
        torch.manual_seed(config.seed + step)  # dropout masks identical whether resumed or not
        batch = _batch(encoded, order, step, config.batch_size, tokenizer.pad_token_id)
        for group in optimizer.param_groups:
            group["lr"] = _lr_at(step, config)
        loss = _backward(peft_model, batch, config.micro_batch_size, device)
        torch.nn.utils.clip_grad_norm_(trainable, 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        tokens += int(batch[2].sum())
        result.losses.append(round(loss, 5))
        result.history.append(result.losses[-1])
        elapsed = time.perf_counter() - started
        log.info(
            "step %d/%d  loss %.4f  lr %.2e  %.0f tokens/s  %.0fs",
            step + 1,
            config.steps,
            loss,
            _lr_at(step, config),
            tokens / elapsed,
            elapsed,
        )
        if (step + 1) % config.checkpoint_every == 0 or step + 1 == config.steps:
            peft_model.save_pretrained(adapter_dir)
            state = {"step": step + 1, "loss": loss, "losses": result.history}
            checkpoints.save(step + 1, adapter_dir, optimizer.state_dict(), state)
            log.info("checkpoint saved at step %d (%s)", step + 1, checkpoints.prefix)
    result.seconds = time.perf_counter() - started
    result.tokens_per_second = tokens / result.seconds if result.seconds else 0.0
    if start >= config.steps:
        log.info("all %d steps were already done; using the final checkpoint", config.steps)
    peft_model.eval()
    return result
