"""Evaluation of the support assistant, one stage that fine-tuning's evaluation and production monitoring
both import: answering through the RAG path, scoring against gold answers, and the hallucination detector."""
