"""The RAG prompt: a template file (configs/llm/prompts/, `prompt.template` in the assistant's config) whose
version is derived from its own text, registered in MLflow's prompt registry and recorded on every assistant
version. The served model renders the registered template it was evaluated with."""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from ml_platform.config.assistant import Prompt
from ml_platform.config.base import config_dir

PROMPTS_DIR = "llm/prompts"
_VARIABLE = re.compile(r"\{\{\s*(\w+)\s*\}\}")


@dataclass(frozen=True)
class Template:
    name: str  # the prompt's name in the MLflow prompt registry
    messages: tuple[tuple[str, str], ...]  # (role, content with {{variables}})

    @property
    def sha256(self) -> str:
        return hashlib.sha256(json.dumps([self.name, self.messages]).encode()).hexdigest()

    @property
    def version(self) -> str:
        """What every assistant version records: the name and the template's own hash, never typed by hand."""
        return f"{self.name}@{self.sha256[:12]}"

    def as_chat(self) -> list[dict[str, str]]:
        return [{"role": role, "content": content} for role, content in self.messages]


def template_path(prompt: Prompt) -> Path:
    path = Path(prompt.template)
    return path if path.is_absolute() else config_dir() / PROMPTS_DIR / path


def load_template(prompt: Prompt) -> Template:
    return _parse(template_path(prompt).read_text(encoding="utf-8"))


@functools.cache
def _parse(text: str) -> Template:
    raw = yaml.safe_load(text)
    return Template(raw["name"], tuple((m["role"], m["content"]) for m in raw["messages"]))


def template_file_text(template: Template) -> str:
    """The template as a file again (how the served model keeps the registered version beside its adapter)."""
    return yaml.safe_dump({"name": template.name, "messages": template.as_chat()}, sort_keys=False, allow_unicode=True)


def _render(content: str, values: dict[str, str]) -> str:
    return _VARIABLE.sub(lambda m: values[m.group(1)], content)


def messages(question: str, context: str, prompt: Prompt) -> list[dict[str, str]]:
    values = {"question": question.strip(), "context": context, "abstain_answer": prompt.abstain_answer}
    return [{"role": role, "content": _render(content, values)} for role, content in load_template(prompt).messages]


def system_prompt(prompt: Prompt) -> str:
    """The system turn as the model sees it (the answer may rely on its words: the company's name)."""
    return next(m["content"] for m in messages("", "", prompt) if m["role"] == "system")


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


def register(template: Template) -> dict[str, str]:
    """The template's version in MLflow's prompt registry (the tracking URI the caller's ModelRegistry set): the
    existing version with the same text, or a new one."""
    from mlflow.genai import load_prompt, register_prompt

    latest = load_prompt(f"prompts:/{template.name}@latest", allow_missing=True, link_to_model=False)
    for number in range(int(latest.version) if latest else 0, 0, -1):
        known = load_prompt(template.name, version=number, link_to_model=False)
        if known.tags.get("template_sha256") == template.sha256:
            return {"uri": known.uri, "version": template.version, "registry_version": str(number)}
    made = register_prompt(
        name=template.name,
        template=template.as_chat(),
        commit_message=f"support assistant RAG prompt {template.version}",
        tags={"template_sha256": template.sha256},
    )
    return {"uri": made.uri, "version": template.version, "registry_version": str(made.version)}


def from_registry(uri: str) -> Template:
    """A registered template, as the served model loads it."""
    from mlflow.genai import load_prompt

    found = load_prompt(uri, link_to_model=False)
    return Template(found.name, tuple((m["role"], m["content"]) for m in found.template))
