"""Fine-tuning examples from a day's Q&A pairs: retrieved context + question -> answer, screened first.

Pairs marked `answerable: false` teach the assistant to abstain: their target is the prompt's abstain answer
(whatever the data's answer text says), so a help centre landed from elsewhere trains the same behaviour.
"""

from __future__ import annotations

import pandas as pd

from ml_platform.config.assistant import AssistantConfig
from ml_platform.guardrails.screening import screen_frame
from ml_platform.llm.finetune import Example
from ml_platform.llm.prompts import format_context


def _sample(qa: pd.DataFrame, config: AssistantConfig) -> pd.DataFrame:
    """Grounded pairs plus abstain pairs repeated up to their configured share (abstaining is the rarer skill)."""
    tuning = config.finetune
    abstain = qa[~qa["answerable"].astype(bool)]
    grounded = qa.drop(abstain.index)
    n_abstain = round(tuning.train_pairs * tuning.abstain_share) if len(abstain) else 0
    abstain = abstain.sample(n=n_abstain, replace=n_abstain > len(abstain), random_state=tuning.seed)
    budget = max(0, tuning.train_pairs - len(abstain))
    return pd.concat([grounded.sample(n=min(budget, len(grounded)), random_state=tuning.seed), abstain])


def training_examples(qa: pd.DataFrame, retriever, config: AssistantConfig) -> tuple[list[Example], dict[str, int]]:
    """Grounded RAG examples, the supporting article guaranteed in each answerable pair's context.

    Q&A text passes the guardrails first: PII is redacted and pairs carrying an injection are dropped, so
    neither reaches the training set.
    """
    screened, counts = screen_frame(qa, ["question", "answer"])
    sample = _sample(screened[~screened["blocked"]], config)
    k, budget = config.retrieval.k, config.prompt.max_context_chars
    wide = max(20, k)  # deep enough to find the supporting article when it is not in the top k
    examples = []
    for row, hits in zip(sample.itertuples(), retriever.search_many(sample["question"].tolist(), wide), strict=True):
        passages = [h.text for h in hits[:k]]
        if row.answerable and row.article_id not in {h.article_id for h in hits[:k]}:
            best = next((h for h in hits if h.article_id == row.article_id), None)
            if best is None:
                continue  # the answer cannot be grounded in anything retrievable: do not teach it
            passages = [best.text, *passages[: k - 1]]
        target = row.answer if row.answerable else config.prompt.abstain_answer
        examples.append(Example(row.question, format_context(passages, budget), target))
    stats = {
        "qa_pairs": len(qa),
        "blocked_injection": int(screened["blocked"].sum()),
        "examples": len(examples),
        "abstain_examples": int((~sample["answerable"].astype(bool)).sum()),
        **{f"redacted_{kind}": n for kind, n in counts.items()},
    }
    return examples, stats
