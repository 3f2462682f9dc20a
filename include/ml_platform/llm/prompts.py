"""The RAG prompt. Its wording lives here and its version in the assistant's config (`prompt.version`), which
every registered version records; the answer for questions the context does not cover is config too."""

from __future__ import annotations

from collections.abc import Sequence

from ml_platform.config.assistant import Prompt


def system_prompt(prompt: Prompt) -> str:
    return (
        "You are Northwind Mobile's support assistant. Answer the customer's question in one short sentence using "
        f"only the help-centre context. If the context does not contain the answer, reply exactly: "
        f"{prompt.abstain_answer}"
    )


def format_context(passages: Sequence[str], max_chars: int) -> str:
    """Numbered passages, cut to a budget so prompts stay within the model's context on a CPU night."""
    out, used = [], 0
    for number, text in enumerate(passages, 1):
        piece = f"[{number}] {text.strip()}"
        if used + len(piece) > max_chars and out:
            break
        out.append(piece[: max_chars - used])
        used += len(piece)
    return "\n".join(out)


def messages(question: str, context: str, prompt: Prompt) -> list[dict[str, str]]:
    return [
        {"role": "system", "content": system_prompt(prompt)},
        {"role": "user", "content": f"Help-centre context:\n{context}\n\nCustomer question: {question.strip()}"},
    ]
