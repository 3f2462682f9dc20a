"""The support assistant as an MLflow pyfunc model: base model (by name and hash) plus the logged adapter.

`mlflow.pyfunc.load_model("models:/support-assistant@champion").predict(frame)` answers a frame of
(question, context) rows; the base model comes from this machine's model cache (ml_platform.llm.base),
checked against the hash the version was trained on.
"""

from __future__ import annotations

from pathlib import Path

import mlflow.pyfunc
import pandas as pd


class SupportAssistantModel(mlflow.pyfunc.PythonModel):
    def load_context(self, context) -> None:
        from ml_platform.config.assistant import load_assistant_config
        from ml_platform.errors import BaseModelMismatch
        from ml_platform.llm.base import load_with_adapters, resolve_base_model
        from ml_platform.settings import Settings

        self.config = load_assistant_config()
        base = resolve_base_model(self.config, Settings.from_env())
        expected = (context.model_config or {}).get("base_model_sha256")
        if expected and expected != base.sha256:
            raise BaseModelMismatch(
                f"base model {base.name} on this machine has hash {base.sha256[:12]}, but the "
                f"adapter was trained on {expected[:12]}"
            )
        self.model, self.tokenizer = load_with_adapters(base, {"assistant": Path(context.artifacts["adapter"])})

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        """One answer per (question, context) row, through the guardrails: an injected or abusive question
        gets its fixed reply without reaching the model, the model sees the question with PII redacted, and
        the answer goes out redacted, or withheld when it is abusive. `guardrail` says which happened."""
        from ml_platform.guardrails import guard_answer, guard_question
        from ml_platform.llm.generation import generate

        answers, outcomes = [], []
        for row in model_input.itertuples():
            question, reply = guard_question(row.question)
            if reply is not None:
                answers.append(reply)
                outcomes.append("blocked_question" if question.blocked else "toxic_question")
                continue
            generated = generate(
                self.model,
                self.tokenizer,
                question.text,
                row.context,
                self.config.prompt,
                self.config.evaluation.max_new_tokens,
            )
            answer, screened = guard_answer(generated.text)
            answers.append(answer)
            outcomes.append("withheld_answer" if screened.toxic else "redacted" if screened.pii else "passed")
        return pd.DataFrame({"answer": answers, "guardrail": outcomes})
