"""Greedy generation of answers through the RAG prompt, in batches, with the tokens and time each cost.

Prompts are batched by length (longest first, left-padded), so a batch wastes little on padding and its
composition depends only on the prompts: the same questions and contexts always form the same batches, and
greedy decoding then gives the same answers on every run.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ml_platform.config.assistant import Prompt
from ml_platform.llm.prompts import messages


@dataclass(frozen=True)
class Generated:
    text: str
    tokens_in: int
    tokens_out: int
    latency_s: float  # the batch's time shared out by output tokens: what one answer cost


def prompt_text(tokenizer, question: str, context: str, prompt: Prompt) -> str:
    """The model's input exactly as generated from: the chat template over the RAG messages."""
    return tokenizer.apply_chat_template(
        messages(question, context, prompt), tokenize=False, add_generation_prompt=True
    )


def generate(model, tokenizer, question: str, context: str, prompt: Prompt, max_new_tokens: int) -> Generated:
    return generate_many(model, tokenizer, [prompt_text(tokenizer, question, context, prompt)], max_new_tokens)[0]


def generate_many(
    model,
    tokenizer,
    texts: Sequence[str],
    max_new_tokens: int,
    batch_size: int = 8,
    progress: Callable[[int, int], None] | None = None,
) -> list[Generated]:
    """One answer per prompt text, in the order given."""
    import torch

    encoded = [tokenizer(text, add_special_tokens=False)["input_ids"] for text in texts]
    order = sorted(range(len(texts)), key=lambda i: (-len(encoded[i]), i))
    out: list[Generated | None] = [None] * len(texts)
    pad = tokenizer.pad_token_id
    for start in range(0, len(order), batch_size):
        batch = order[start : start + batch_size]
        width = max(len(encoded[i]) for i in batch)
        ids = torch.tensor([[pad] * (width - len(encoded[i])) + encoded[i] for i in batch])
        mask = torch.tensor([[0] * (width - len(encoded[i])) + [1] * len(encoded[i]) for i in batch])
        started = time.perf_counter()
        with torch.no_grad():
            output = model.generate(
                input_ids=ids.to(model.device),
                attention_mask=mask.to(model.device),
                max_new_tokens=max_new_tokens,
                do_sample=False,
                pad_token_id=pad,
            )
        elapsed = time.perf_counter() - started
        new_tokens = [_trim(row[width:].tolist(), tokenizer) for row in output]
        total = max(1, sum(len(t) for t in new_tokens))
        for i, tokens in zip(batch, new_tokens, strict=True):
            text = tokenizer.decode(tokens, skip_special_tokens=True).strip()
            out[i] = Generated(text, len(encoded[i]), len(tokens), elapsed * max(1, len(tokens)) / total)
        if progress:
            progress(min(start + batch_size, len(order)), len(order))
    return [g for g in out if g is not None]


def _trim(tokens: list[int], tokenizer) -> list[int]:
    """A finished row keeps generating padding (= end of text here) until the batch's longest is done."""
    stops = {tokenizer.eos_token_id, tokenizer.pad_token_id}
    for position, token in enumerate(tokens):
        if token in stops:
            return tokens[:position]
    return tokens
