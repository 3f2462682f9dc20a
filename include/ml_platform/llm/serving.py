"""The support assistant as an MLflow pyfunc model: base model (by name and hash) plus the logged adapter.

`mlflow.pyfunc.load_model("models:/support-assistant@champion").predict(frame)` answers a frame of
(question, context) rows; the base model comes from this machine's model cache (ml_platform.llm.base),
checked against the hash the version was trained on.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import mlflow.pyfunc
import pandas as pd


class SupportAssistantModel(mlflow.pyfunc.PythonModel):
    def load_context(self, context) -> None:
        from ml_platform.config.assistant import load_assistant_config
        from ml_platform.errors import BaseModelMismatch
        from ml_platform.llm.base import load_with_adapters, resolve_base_model
        from ml_platform.settings import Settings

        config = load_assistant_config()
        served_with = context.model_config or {}
        base = resolve_base_model(config, Settings.from_env())
        expected = served_with.get("base_model_sha256")
        if expected and expected != base.sha256:
            raise BaseModelMismatch(
                f"base model {base.name} on this machine has hash {base.sha256[:12]}, but the "
                f"adapter was trained on {expected[:12]}"
            )
        self.config = config.with_value(("prompt", "template"), str(_registered_prompt(served_with, config)))
        self.model, self.tokenizer = load_with_adapters(base, {"assistant": Path(context.artifacts["adapter"])})

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        """One answer per (question, context[, retrieval_score]) row through the guarded answer path
        (ml_platform.llm.answering) inside the screening guardrails: an injected or abusive question gets its
        fixed reply without reaching the model; control tokens are neutralised; below the retrieval threshold
        the assistant abstains without generating; an unsupported answer is replaced by the abstention; the
        answer goes out redacted, or withheld when abusive. `guardrail` says which happened."""
        from ml_platform.guardrails.screening import guard_answer, guard_question
        from ml_platform.llm.answering import prepare_context, settle
        from ml_platform.llm.generation import generate_many, prompt_text

        scores = model_input["retrieval_score"] if "retrieval_score" in model_input else [None] * len(model_input)
        replies: dict[int, tuple[str, str]] = {}
        prepared = {}
        for i, (row, score) in enumerate(zip(model_input.itertuples(), scores, strict=True)):
            question, reply = guard_question(row.question)
            if reply is not None:
                replies[i] = (reply, "blocked_question" if question.blocked else "toxic_question")
            else:
                prepared[i] = prepare_context(
                    question.text, row.context, None if pd.isna(score) else score, self.config
                )
        asked = [i for i, p in prepared.items() if p.relevant]
        texts = [
            prompt_text(self.tokenizer, prepared[i].question, prepared[i].context, self.config.prompt) for i in asked
        ]
        evaluation = self.config.evaluation
        generated = generate_many(self.model, self.tokenizer, texts, evaluation.max_new_tokens, evaluation.batch_size)
        said = dict(zip(asked, generated, strict=True))
        for i, ready in prepared.items():
            settled = settle(ready, said[i].text if i in said else None, self.config)
            answer, screened = guard_answer(settled.answer)
            outcome = "withheld_answer" if screened.toxic else "redacted" if screened.pii else "passed"
            replies[i] = (answer, settled.outcome if settled.outcome != "answered" else outcome)
        ordered = [replies[i] for i in range(len(model_input))]
        return pd.DataFrame({"answer": [a for a, _ in ordered], "guardrail": [g for _, g in ordered]})


def _registered_prompt(served_with: dict, config) -> Path:
    """The template this version was evaluated with, from MLflow's prompt registry, as a file to render from;
    the config's own template when the version names none."""
    from ml_platform.llm.prompts import from_registry, template_file_text, template_path

    uri = served_with.get("prompt_uri")
    if not uri:
        return template_path(config.prompt)
    template = from_registry(uri)
    if served_with.get("prompt_version") not in (None, template.version):
        from ml_platform.errors import PromptMismatch

        raise PromptMismatch(
            f"prompt {uri} is {template.version}, but this model was evaluated with {served_with['prompt_version']}"
        )
    folder = Path(tempfile.mkdtemp(prefix="served-prompt-"))
    (folder / "template.yaml").write_text(template_file_text(template), encoding="utf-8")
    return folder / "template.yaml"
