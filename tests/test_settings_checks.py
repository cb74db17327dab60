"""`Settings.__post_init__`: every check, its exact message, and the values it accepts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from qa.config import Settings


def refused(**fields: Any) -> str:
    with pytest.raises(ValueError) as e:
        Settings(**fields)
    return str(e.value)


def test_k_and_fetch_k() -> None:
    assert refused(k=0) == "k must be at least 1, got 0"
    assert refused(k=50, fetch_k=10) == "fetch_k (10) must be at least k (50)"
    assert (Settings(k=1).k, Settings(k=1).fetch_k) == (1, 40)
    assert Settings(k=50).fetch_k == 50
    assert Settings(k=5, fetch_k=5).fetch_k == 5


def test_chunk_sizes() -> None:
    assert refused(chunk_tokens=15) == "chunk_tokens must be 16..254, got 15"
    assert refused(chunk_tokens=255) == "chunk_tokens must be 16..254, got 255"
    assert refused(chunk_overlap_tokens=100) == "chunk_overlap_tokens must be 0..99, got 100"
    assert refused(chunk_overlap_tokens=-1) == "chunk_overlap_tokens must be 0..99, got -1"
    assert (
        refused(chunk_tokens=16, chunk_overlap_tokens=8)
        == "chunk_overlap_tokens must be 0..7, got 8"
    )
    assert Settings(chunk_tokens=16, chunk_overlap_tokens=7).chunk_tokens == 16
    assert Settings(chunk_tokens=254, chunk_overlap_tokens=0).chunk_overlap_tokens == 0


def test_fusion_and_grounding() -> None:
    assert refused(fusion="sum") == "fusion must be 'convex' or 'rrf', got 'sum'"
    assert refused(grounding="drop") == "grounding must be 'remove' or 'mark', got 'drop'"
    assert Settings(fusion="rrf").fusion == "rrf"
    assert Settings(grounding="mark").grounding == "mark"


def test_answerer_names() -> None:
    expected = (
        "answerer must be extractive, llamacpp:smollm2, llamacpp:/path/to/model.gguf, "
        "openai:MODEL or ollama:MODEL, got {!r}"
    )
    for name in ("gpt", "openai:", "ollama", "llamacpp:", "huggingface:x"):
        assert refused(answerer=name) == expected.format(name)
    for name in ("extractive", "llamacpp:smollm2", "llamacpp:/m.gguf", "openai:m", "ollama:m"):
        assert Settings(answerer=name).answerer == name


def test_sync_and_lease_times() -> None:
    message = "sync_s and lease_s must be positive, got {}, {}"
    assert refused(sync_s=0.0) == message.format(0.0, 60.0)
    assert refused(lease_s=-1.0) == message.format(2.0, -1.0)


def test_store_dir_is_expanded() -> None:
    assert Settings(store_dir=Path("~/qa-index")).store_dir == Path.home() / "qa-index"
    assert Settings(store_dir="/tmp/qa-index").store_dir == Path("/tmp/qa-index")  # type: ignore[arg-type]
