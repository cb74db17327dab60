"""The `openai:` backend against a real OpenAI-compatible server: llama-cpp-python's own,
started here on a free 127.0.0.1 port with the SmolLM2 file; and against a closed port."""

from __future__ import annotations

import importlib.util
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ROOT, SEED, WAIT_S, free_port, running

from qa.answering.generative import GenerationFailed, generate
from qa.config import Settings
from qa.index.retrieval import retrieve
from qa.index.store import open_index
from qa.models.embedders import Embedder
from qa.models.registry import get_chat_model, get_embedder
from qa.types import Answer

UN_QUESTION = "Which UN resolutions demand withdrawal?"
SERVER_MODULES = (
    "llama_cpp",
    "fastapi",
    "uvicorn",
    "sse_starlette",
    "pydantic_settings",
    "starlette_context",
)
missing = [m for m in SERVER_MODULES if importlib.util.find_spec(m) is None]
needs_server = pytest.mark.skipif(
    bool(missing),
    reason=f"llama-cpp-python's server needs {', '.join(missing)}: pip install 'qa[llm]'",
)


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return get_embedder("sentence-transformers:all-MiniLM-L6-v2")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`python -m llama_cpp.server` serving SmolLM2; yields its /v1 base URL."""
    from qa.models.llamacpp import smollm2_path

    port = free_port()
    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    # Passive OpenMP waiting: spinning threads make llama.cpp crawl on shared cores.
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}
    cmd = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(smollm2_path()),
        "--model_alias",
        "smollm2",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        "2048",
        "--n_threads",
        "2",
        "--n_batch",
        "16",
        "--seed",
        "0",
    ]
    url = f"http://127.0.0.1:{port}/v1"
    with running(
        "llama_cpp.server", cmd, ready_url=f"{url}/models", log=log, timeout_s=WAIT_S, env=env
    ):
        yield url


def run(settings: Settings, embedder: Embedder) -> tuple[list[str], Answer]:
    passages = retrieve(UN_QUESTION, open_index(settings), embedder, settings).passages
    pieces: list[str] = []
    for item in generate(UN_QUESTION, UN_QUESTION, passages, settings, embedder):
        if isinstance(item, Answer):
            return pieces, item
        pieces.append(item)
    raise AssertionError("generate() ended without an Answer")


@pytest.mark.server
@pytest.mark.llm
@needs_server
def test_openai_backend_streams_from_a_llama_cpp_server(
    server: str, corpus_settings: Settings, embedder: Embedder
) -> None:
    settings = corpus_settings.replace(
        answerer="openai:smollm2", openai_base_url=server, llm_timeout_s=WAIT_S
    )  # the default bound (60 s) is not what is tested; a loaded machine may need more
    pieces, a = run(settings, embedder)
    assert len(pieces) > 1  # tokens arrived one by one over server-sent events
    assert a.answered, a
    assert a.answerer == "openai:smollm2"
    c = a.citations[0]
    assert c.n == 1
    assert "resolutions (822, 853, 874 and 884)" in c.quote
    article = (ROOT / "corpus" / SEED).read_text(encoding="utf-8")
    assert article[c.start : c.end] == c.quote


def test_a_server_that_is_down_fails_fast_and_names_its_url(
    corpus_settings: Settings, embedder: Embedder
) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    settings = corpus_settings.replace(answerer="openai:smollm2", openai_base_url=url)
    passages = retrieve(UN_QUESTION, open_index(settings), embedder, settings).passages
    # Importing LangChain's OpenAI client takes seconds on a loaded machine: not what is timed.
    get_chat_model(settings.answerer, settings)
    started = time.monotonic()
    with pytest.raises(GenerationFailed) as e:
        list(generate(UN_QUESTION, UN_QUESTION, passages, settings, embedder))
    assert time.monotonic() - started < 2.0
    assert str(e.value).startswith(f"openai:smollm2 at {url} failed: ")
    assert "Connection error" in str(e.value)


def test_the_public_api_falls_back_to_the_extractive_answer(corpus_settings: Settings) -> None:
    from qa import answer

    url = f"http://127.0.0.1:{free_port()}/v1"
    settings = corpus_settings.replace(answerer="openai:smollm2", openai_base_url=url)
    a = answer(UN_QUESTION, settings=settings)
    assert a.answered
    assert a.answerer == "extractive"
    assert url in a.notice
    assert a.notice.endswith("showing the extractive answer")
    assert "resolutions (822, 853, 874 and 884)" in a.citations[0].quote


def test_an_ollama_that_is_down_falls_back_and_names_its_url(corpus_settings: Settings) -> None:
    from qa import answer

    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    settings = corpus_settings.replace(answerer="ollama:llama3.2", ollama_url=url)
    a = answer(UN_QUESTION, settings=settings)
    assert (a.answered, a.answerer) == (True, "extractive")
    assert a.notice.startswith(f"ollama:llama3.2 failed (ollama:llama3.2 at {url} failed: ")
    assert "Connection refused" in a.notice
    assert "resolutions (822, 853, 874 and 884)" in a.citations[0].quote


def test_a_missing_model_file_is_named(tmp_path: Path) -> None:
    from qa.models.registry import get_chat_model

    with pytest.raises(ValueError, match=r"not a \.gguf file"):
        get_chat_model(f"llamacpp:{tmp_path / 'absent.gguf'}", Settings())
