"""Every model qa can use, by `"provider:name"`: the embedders and the answerers, named here once.

    embedders   sentence-transformers:all-MiniLM-L6-v2 (default), onnx-int8:all-MiniLM-L6-v2,
                fake:hash (a test double)
    answerers   extractive (default), llamacpp:smollm2, llamacpp:/path/to/model.gguf,
                openai:<model>, ollama:<model>

`get_embedder` and `get_chat_model` turn a name into a model. The models' libraries (torch,
onnxruntime, LangChain, llama.cpp) are imported inside them: `qa --help` must not pay for them.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from qa.config import (
    ANSWERER_FORMS,
    ANSWERERS,
    DEFAULT_EMBEDDER,
    FAKE,
    GENERATIVE,
    GENERATIVE_FORMS,
    ONNX_MINILM,
    ST_MINILM,
)

if TYPE_CHECKING:
    from langchain_core.language_models.chat_models import BaseChatModel

    from qa.config import Settings
    from qa.models.embedders import Embedder

log = logging.getLogger(__name__)

__all__ = [
    "ANSWERERS",
    "ANSWERER_FORMS",
    "DEFAULT_EMBEDDER",
    "EMBEDDERS",
    "FAKE",
    "GENERATIVE",
    "GENERATIVE_FORMS",
    "ONNX_MINILM",
    "ST_MINILM",
    "embedder_for",
    "get_chat_model",
    "get_embedder",
]

EMBEDDERS = (ST_MINILM, ONNX_MINILM, FAKE)


def _load_embedder(name: str, cache_dir: Path) -> Embedder:
    if name == ST_MINILM:
        from qa.models.embedders import SentenceTransformerEmbedder

        return SentenceTransformerEmbedder()
    if name == ONNX_MINILM:
        from qa.models.onnx_embed import OnnxEmbedder

        return OnnxEmbedder(cache_dir=cache_dir, name=name)
    from qa.models.embedders import HashEmbedder

    return HashEmbedder()


_embedders: dict[str, Embedder] = {}
_embedders_lock = threading.Lock()


def get_embedder(name: str, cache_dir: Path | None = None) -> Embedder:
    """The embedder called `name`, loaded once per process.

    Raises:
        ValueError: `name` is not one of `EMBEDDERS`.
    """
    if name not in EMBEDDERS:
        raise ValueError(f"unknown embedder {name!r}; choose one of: {', '.join(EMBEDDERS)}")
    with _embedders_lock:
        if name not in _embedders:
            folder = cache_dir or Path.home() / ".cache" / "qa"
            log.info("loading embedder %s", name)
            _embedders[name] = _load_embedder(name, folder)
        return _embedders[name]


def embedder_for(settings: Settings) -> Embedder:
    """The embedder `settings` names (an exported ONNX model is cached in the store's folder)."""
    return get_embedder(settings.embedder, settings.store_dir / "models")


def get_chat_model(name: str, settings: Settings) -> BaseChatModel:
    """The chat model called `name`, configured from `settings` (deterministic: temperature 0).

    Raises:
        ValueError: `name` is not one of the forms in `GENERATIVE_FORMS`.
        RuntimeError: the backend's optional package is not installed (the message gives the
            install command) or its model file is missing.
    """
    provider, _, model = name.partition(":")
    if provider not in GENERATIVE or not model:
        raise ValueError(
            f"unknown answerer {name!r}; choose extractive or one of: {', '.join(GENERATIVE_FORMS)}"
        )
    from qa.models import chat_models  # late: LangChain, and the provider's client

    return chat_models.PROVIDERS[provider](model, settings)
