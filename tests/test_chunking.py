"""Chunking: sentence boundaries, sizes in the real tokenizer's word pieces, nothing cut."""

from __future__ import annotations

import itertools
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qa.ingestion.chunking import chunk_article, chunk_spans, split_sentences
from qa.models.embedders import HashEmbedder
from qa.models.registry import get_embedder
from qa.types import Article


@pytest.fixture(scope="module")
def minilm():  # type: ignore[no-untyped-def]
    return get_embedder("sentence-transformers:all-MiniLM-L6-v2")


def test_split_sentences_keeps_abbreviations_and_offsets() -> None:
    text = (
        "Mr. Smith went to Washington D.C. on Monday. He met Dr. Jones!  Then he left.\n\nNew para"
    )
    spans = split_sentences(text)
    assert [text[a:b] for a, b in spans] == [
        "Mr. Smith went to Washington D.C. on Monday.",
        "He met Dr. Jones!",
        "Then he left.",
        "New para",
    ]


def test_no_chunk_is_cut_by_the_model(minilm) -> None:  # type: ignore[no-untyped-def]
    # One sentence of ~900 word pieces with no full stop, then ordinary sentences.
    words = " ".join(f"word{i} ceasefire negotiations" for i in range(300))
    body = f"{words}. " + " ".join(f"Sentence number {i} is short." for i in range(80))
    article = Article(source="long.txt", text=body, title="Long")
    chunks = chunk_article(
        article, minilm.token_spans, signature="t", chunk_tokens=254, max_tokens=minilm.max_tokens
    )
    assert len(chunks) > 5
    tokenizer = minilm.model.tokenizer
    for c in chunks:
        with_specials = len(tokenizer(c.text)["input_ids"])
        assert with_specials <= minilm.model.max_seq_length, (c.index, with_specials)
        assert c.text == body[c.start : c.end]
    # Every word of the article is inside some chunk: nothing was dropped.
    covered = [False] * len(body)
    for c in chunks:
        covered[c.start : c.end] = [True] * (c.end - c.start)
    assert all(covered[m.start()] for m in re.finditer(r"\S+", body))


def test_chunks_overlap_by_whole_sentences(minilm) -> None:  # type: ignore[no-untyped-def]
    body = " ".join(f"This is sentence {i} about the Minsk Group talks." for i in range(40))
    article = Article(source="a.txt", text=body, title="A")
    chunks = chunk_article(
        article, minilm.token_spans, signature="t", chunk_tokens=64, overlap_tokens=16
    )
    for first, second in itertools.pairwise(chunks):
        assert second.start < first.end, "consecutive chunks share their boundary sentence"
        assert body[second.start - 1] == " " and body[second.start : second.start + 4] == "This"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(min_size=0, max_size=3000), st.integers(16, 200), st.integers(0, 7))
def test_chunker_never_loses_text_or_exceeds_the_limit(text: str, size: int, overlap: int) -> None:
    fake = HashEmbedder()
    spans = chunk_spans(text, fake.token_spans, chunk_tokens=size, overlap_tokens=overlap)
    for a, b in spans:
        assert len(fake.token_spans(text[a:b])) <= size
    covered = [False] * len(text)
    for a, b in spans:
        covered[a:b] = [True] * (b - a)
    for i, ch in enumerate(text):
        assert covered[i] or ch.isspace(), f"character {i} ({ch!r}) is in no chunk"


def test_a_questions_texts_embed_as_an_ingest_batch_does(minilm) -> None:  # type: ignore[no-untyped-def]
    """Up to 32 texts skip `encode` (and its lock) for the model's own forward pass: the same
    vectors as fp32 `encode`, from several threads at once. (Ingest batches may run in
    bfloat16, `tests/test_embed_bf16.py`: within a cosine of 0.999.)"""
    from concurrent.futures import ThreadPoolExecutor

    texts = [f"Sentence {i} on the Minsk Group and resolution {i * 7}. " * (1 + i % 3)
             for i in range(40)]  # fmt: skip
    batch = minilm.model.encode(texts, batch_size=32, normalize_embeddings=True)  # fp32
    with ThreadPoolExecutor(4) as pool:
        parts = list(pool.map(minilm.embed, [texts[:1], texts[:5], texts[:32]] * 4))
    for part in parts:
        assert part.dtype.name == "float32"
        assert abs(part - batch[: len(part)]).max() < 1e-6
    ingested = minilm.embed(texts)  # 40 texts: the ingest path
    assert float((ingested * batch).sum(axis=1).min()) > 0.999
