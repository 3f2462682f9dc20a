"""Greedy generation of one answer through the RAG prompt, with the tokens and time it cost."""

from __future__ import annotations

import time
from dataclasses import dataclass

from ml_platform.config.assistant import Prompt
from ml_platform.llm.prompts import messages


@dataclass(frozen=True)
class Generated:
    text: str
    tokens_in: int
    tokens_out: int
    latency_s: float


def generate(model, tokenizer, question: str, context: str, prompt: Prompt, max_new_tokens: int) -> Generated:
    import torch

    text = tokenizer.apply_chat_template(
        messages(question, context, prompt), tokenize=False, add_generation_prompt=True
    )
    inputs = tokenizer(text, return_tensors="pt", add_special_tokens=False).to(model.device)
    started = time.perf_counter()
    with torch.no_grad():
        output = model.generate(
            **inputs, max_new_tokens=max_new_tokens, do_sample=False, pad_token_id=tokenizer.pad_token_id
        )
    latency = time.perf_counter() - started
    new = output[0][inputs["input_ids"].shape[1] :]
    answer = tokenizer.decode(new, skip_special_tokens=True).strip()
    return Generated(answer, int(inputs["input_ids"].shape[1]), len(new), latency)
