"""The LLM stages against the bare libraries: LoRA fine-tuning against a bare PEFT loop on the same batches, and
the guarded RAG answer path against bare `generate` on the same prompts.

    python benchmarks/bench_llm.py prepare --data FOLDER --questions N      # the world both variants share
    python benchmarks/bench_llm.py finetune ours|bare --data FOLDER --steps N
    python benchmarks/bench_llm.py answer ours|bare --data FOLDER

`prepare` builds the demo knowledge base's index, the fine-tuning examples (as the nightly step does: screened,
retrieved, grounded) and a question sample with each question's retrieved passages, once, into FOLDER. Each
variant then runs in its own process (run.py starts one per variant, so each peak RSS is that variant's alone)
and prints one JSON line.

- fine-tune, ours: `ml_platform.llm.finetune.finetune` (seeded LoRA init, deterministic kernels, learning-rate
  schedule, gradient clipping, a checkpoint to the object store every `checkpoint_every` steps, loss log).
  Bare: PEFT's `get_peft_model` and a plain AdamW loop over the same batches, the adapter saved once at the end.
  Both timed from wrapping the model in LoRA to the saved adapter.
- answer, ours: one request at a time through retrieval (embedding + vector search) and the served model's
  guarded path (`SupportAssistantModel.predict`: question screening, control-token neutralising, the relevance
  check, generation, the grounding check, answer screening). Bare: `model.generate` on the same prompt text,
  greedy, the same token budget. Latencies are compared on the questions the guarded path sends to the model
  (the others it answers without generating, which would flatter it).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from peak import peak_rss_mib

DAY = date(2026, 11, 20)


def _config():
    from ml_platform.config.assistant import load_assistant_config

    return load_assistant_config()


def _base_model():
    from ml_platform.llm.base import load_base, resolve_base_model
    from ml_platform.settings import Settings

    return load_base(resolve_base_model(_config(), Settings.from_env()))


# -- the shared world ------------------------------------------------------------------------------------------
def prepare(data: Path, questions: int) -> dict:
    from ml_platform.datasets.scenario import Scenario
    from ml_platform.datasets.support import generate_support
    from ml_platform.evaluation.assistant import pick_questions
    from ml_platform.llm.base import resolve_base_model
    from ml_platform.llm.examples import training_examples
    from ml_platform.llm.prompts import format_context
    from ml_platform.retrieval.index import Retriever, refresh_index
    from ml_platform.retrieval.stores import open_vector_store
    from ml_platform.settings import Settings

    config = _config()
    resolve_base_model(config, Settings.from_env())  # unpacks the base model once, outside every variant
    tables = generate_support(DAY, config.finetune.seed, Scenario())[0]
    store = open_vector_store(str(data / "vectors"))
    refresh_index(store, tables[config.tables.kb], tables[config.tables.eval], DAY, k=config.retrieval.k)
    retriever = Retriever(store)
    examples, _ = training_examples(tables[config.tables.qa], retriever, config)
    sample = pick_questions(tables[config.tables.eval], questions, config.finetune.seed, DAY)
    searched = retriever.search_many(sample["question"].tolist(), config.retrieval.k)
    retriever.close()
    world = {
        "examples": [vars(e) for e in examples],
        "questions": [
            {
                "question": question,
                "context": format_context([h.text for h in hits], config.prompt.max_context_chars),
                "top_score": max(h.score for h in hits),
            }
            for question, hits in zip(sample["question"], searched, strict=True)
        ],
    }
    (data / "llm.json").write_text(json.dumps(world))
    return {"examples": len(examples), "questions": len(world["questions"])}


def _world(data: Path) -> dict:
    return json.loads((data / "llm.json").read_text())


# -- fine-tuning ---------------------------------------------------------------------------------------------------
def finetune(variant: str, data: Path, steps: int) -> dict:
    from ml_platform.llm.finetune import Example

    config = _config().with_value(("finetune", "steps"), steps)
    examples = [Example(**e) for e in _world(data)["examples"]]
    model, tokenizer = _base_model()
    scratch = Path(tempfile.mkdtemp(dir=data))
    loaded = peak_rss_mib()
    run = _finetune_ours if variant == "ours" else _finetune_bare
    started = time.perf_counter()
    run(model, tokenizer, examples, config, scratch)
    seconds = time.perf_counter() - started
    tokens = sum(int(mask.sum()) for _, _, mask in _batches(tokenizer, examples, config))
    return {
        "seconds": seconds,
        "tokens": tokens,
        "tokens_per_s": tokens / seconds,
        "steps": steps,
        "rss_model_loaded_mib": loaded,
        "peak_rss_mib": peak_rss_mib(),
    }


def _finetune_ours(model, tokenizer, examples, config, scratch: Path) -> None:
    from ml_platform.llm.finetune import CheckpointStore, finetune
    from ml_platform.storage import LocalStore

    checkpoints = CheckpointStore(LocalStore(scratch / "store"), "checkpoints")
    finetune(model, tokenizer, examples, config.finetune, config.prompt, checkpoints, scratch)


def _batches(tokenizer, examples, config) -> list:
    """The batches `finetune` trains on, step by step (the same encoding, order and padding)."""
    import numpy as np

    from ml_platform.llm.finetune import _batch, encode_example

    tuning = config.finetune
    encoded = [encode_example(e, tokenizer, tuning.max_length, config.prompt) for e in examples]
    order = np.random.default_rng(tuning.seed).permutation(len(encoded))
    return [_batch(encoded, order, step, tuning.batch_size, tokenizer.pad_token_id) for step in range(tuning.steps)]


def _finetune_bare(model, tokenizer, examples, config, scratch: Path) -> None:
    import torch
    from peft import get_peft_model

    from ml_platform.llm.finetune import lora_config

    tuning = config.finetune
    batches = _batches(tokenizer, examples, config)  # inside the timer: ours encodes inside its call too
    torch.manual_seed(tuning.seed)
    peft_model = get_peft_model(model, lora_config(tuning))
    optimizer = torch.optim.AdamW([p for p in peft_model.parameters() if p.requires_grad], lr=tuning.learning_rate)
    peft_model.train()
    for ids, labels, mask in batches:
        peft_model(input_ids=ids, attention_mask=mask, labels=labels).loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
    peft_model.save_pretrained(scratch / "adapter")


# -- answering ------------------------------------------------------------------------------------------------------
def answer(variant: str, data: Path) -> dict:
    questions = _world(data)["questions"]
    model, tokenizer = _base_model()
    ask = _answer_ours(model, tokenizer, data) if variant == "ours" else _answer_bare(model, tokenizer)
    ask(questions[0])  # warm-up: first-call loading (screening models, the embedder), not counted
    latencies, tokens, generated = [], [], []
    for question in questions:
        started = time.perf_counter()
        out_tokens, did_generate = ask(question)
        latencies.append(time.perf_counter() - started)
        tokens.append(out_tokens)
        generated.append(did_generate)
    return {
        "latencies_s": latencies,
        "tokens_out": tokens,
        "generated": generated,
        "peak_rss_mib": peak_rss_mib(),
    }


def _answer_ours(model, tokenizer, data: Path):
    import pandas as pd

    from ml_platform.llm.prompts import format_context
    from ml_platform.llm.serving import SupportAssistantModel
    from ml_platform.retrieval.index import Retriever
    from ml_platform.retrieval.stores import open_vector_store

    config = _config()
    served = SupportAssistantModel()
    served.config, served.model, served.tokenizer = config, model, tokenizer
    retriever = Retriever(open_vector_store(str(data / "vectors")))

    def ask(item: dict) -> tuple[int, bool]:
        hits = retriever.search(item["question"], config.retrieval.k)
        row = {
            "question": item["question"],
            "context": format_context([h.text for h in hits], config.prompt.max_context_chars),
            "retrieval_score": max(h.score for h in hits),
        }
        reply = served.predict(None, pd.DataFrame([row]))
        generated = reply["guardrail"][0] not in ("no_relevant_context", "blocked_question", "toxic_question")
        return len(tokenizer(reply["answer"][0], add_special_tokens=False)["input_ids"]), generated

    return ask


def _answer_bare(model, tokenizer):
    import torch

    from ml_platform.llm.generation import prompt_text

    config = _config()

    def ask(item: dict) -> tuple[int, bool]:
        text = prompt_text(tokenizer, item["question"], item["context"], config.prompt)
        encoded = tokenizer(text, add_special_tokens=False, return_tensors="pt")
        with torch.no_grad():
            output = model.generate(
                **encoded,
                max_new_tokens=config.evaluation.max_new_tokens,
                do_sample=False,
                pad_token_id=tokenizer.pad_token_id,
            )
        return int(output.shape[1] - encoded["input_ids"].shape[1]), True

    return ask


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def summarise_answers(ours: dict, bare: dict) -> dict:
    """p50/p95 and tokens/s over the questions the guarded path generated for (both variants, same questions)."""
    picked = [i for i, g in enumerate(ours["generated"]) if g]

    def figures(result: dict) -> dict:
        latencies = [result["latencies_s"][i] for i in picked]
        tokens = sum(bare["tokens_out"][i] for i in picked)  # the model's own output, counted once for both
        return {
            "p50_s": statistics.median(latencies),
            "p95_s": percentile(latencies, 0.95),
            "tokens_per_s": tokens / sum(latencies),
            "peak_rss_mib": result["peak_rss_mib"],
        }

    return {
        "questions": len(ours["generated"]),
        "generated": len(picked),
        "ours": figures(ours),
        "bare": figures(bare),
        "ours_all_questions_p50_s": statistics.median(ours["latencies_s"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["prepare", "finetune", "answer"])
    parser.add_argument("variant", nargs="?", choices=["ours", "bare"])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--questions", type=int, default=40)
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    if args.what == "prepare":
        result = prepare(args.data, args.questions)
    elif args.what == "finetune":
        result = finetune(args.variant, args.data, args.steps)
    else:
        result = answer(args.variant, args.data)
    json.dump(result, sys.stdout)
    print()


if __name__ == "__main__":
    main()
