"""Production monitoring of the support assistant: answer-level checks such as hallucination detection."""
