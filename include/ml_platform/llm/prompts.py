"""The RAG prompt, versioned: a model version records which template it was trained and evaluated with."""

from __future__ import annotations

from collections.abc import Sequence

from ml_platform.datasets.support import ABSTAIN_ANSWER

PROMPT_VERSION = "rag-v1"
SYSTEM = (
    "You are Northwind Mobile's support assistant. Answer the customer's question in one short sentence using "
    f"only the help-centre context. If the context does not contain the answer, reply exactly: {ABSTAIN_ANSWER}"
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


def messages(question: str, context: str) -> list[dict[str, str]]:
    return [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": f"Help-centre context:\n{context}\n\nCustomer question: {question.strip()}"},
    ]
