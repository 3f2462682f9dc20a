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
        from ml_platform.llm.generation import generate

        answers = [
            generate(
                self.model,
                self.tokenizer,
                row.question,
                row.context,
                self.config.prompt,
                self.config.evaluation.max_new_tokens,
            ).text
            for row in model_input.itertuples()
        ]
        return pd.DataFrame({"answer": answers})
