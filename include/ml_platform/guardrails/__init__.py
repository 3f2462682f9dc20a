"""Guardrails for the support assistant, one module per concern, each imported only where it is used:

- `screening`: PII redaction (Presidio), prompt-injection detection and toxicity in one pass (`screen_many`),
  for every path that carries customer or help-centre text. It loads Presidio, spaCy and a toxicity model,
  which costs seconds: import it where text is screened, not at the top of a module that merely might.
- `grounding`: whether an answer is supported by the passages it was generated from (the hallucination check).
- `control`: chat-template control tokens neutralised in text that goes into a prompt.

Configuration is configs/guardrails.yaml; the labelled cases they are judged on live in ml_platform/guardrails/cases/
and configs/llm/hallucination_cases/.
"""
