"""Ingest's bfloat16 fast path: chosen by the CPU, checked against fp32, same citations."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest
from conftest import ROOT, SEED

from qa import answer
from qa.config import Settings
from qa.evaluation.bench import chunk_counter
from qa.evaluation.gencorpus import generate
from qa.index.store import open_index
from qa.ingestion.job import ingest
from qa.models import registry
from qa.models.embedders import (
    BF16_SAMPLE,
    ONE_BATCH,
    SentenceTransformerEmbedder,
    has_fast_bf16,
)

needs_bf16 = pytest.mark.skipif(
    not has_fast_bf16(), reason="this CPU has neither AMX nor AVX-512 BF16: ingest stays fp32"
)
SEED_QUESTIONS = (
    "Which countries co-chair the OSCE Minsk Group?",
    "How many Azerbaijanis were killed in the hostilities?",
    "When was the cease-fire agreement between Armenia and Azerbaijan signed?",
    "Which UN Security Council resolutions demand the withdrawal of Armenian forces?",
    "What is the population of the Nagorno-Karabakh region?",
)


def test_the_cpu_chooses_bf16_and_it_agrees_with_fp32() -> None:
    auto = SentenceTransformerEmbedder()
    fp32 = SentenceTransformerEmbedder(bf16=False)
    assert auto.bf16 == has_fast_bf16()
    assert fp32.bf16 is False
    texts = list(BF16_SAMPLE)
    assert len(texts) > ONE_BATCH  # the ingest path
    cosines = (auto.embed(texts) * fp32.embed(texts)).sum(axis=1)
    assert float(cosines.min()) >= 0.999


@needs_bf16
def test_bf16_that_strays_from_fp32_is_refused_with_a_notice(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr("qa.models.embedders.BF16_MIN_COSINE", 1.01)  # no cosine reaches it
    with caplog.at_level(logging.WARNING, logger="qa.models.embedders"):
        embedder = SentenceTransformerEmbedder()
        assert embedder.bf16 is False
    assert "bfloat16 embeddings differ from fp32 on this CPU" in caplog.text
    assert "ingesting in fp32" in caplog.text


@needs_bf16
def test_citations_are_the_same_with_either_embedder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The seed article among generated ones: enough chunks for ingest batches (> 32 texts),
    # which is where bf16 applies.
    fp32 = SentenceTransformerEmbedder(bf16=False)
    corpus = generate(tmp_path / "gen", 80, chunk_counter(Settings(), fp32), seed=3)
    shutil.copy(ROOT / "corpus" / SEED, corpus.articles_dir / SEED)
    questions = [*SEED_QUESTIONS, *(c.question for c in corpus.cases[:5])]
    seen = {}
    for bf16 in (False, True):
        embedder = fp32 if not bf16 else SentenceTransformerEmbedder()
        assert embedder.bf16 is bf16
        monkeypatch.setitem(registry._embedders, registry.ST_MINILM, embedder)
        settings = Settings(store_dir=tmp_path / f"store-{bf16}")
        report = ingest([corpus.articles_dir], settings)
        assert report.failed == [] and len(report.added) == corpus.articles + 1
        ids = open_index(settings).chunk_ids()
        answers = []
        for q in questions:
            a = answer(q, settings=settings)
            answers.append((a.answered, [(c.chunk_id, c.start, c.end) for c in a.citations]))
        seen[bf16] = (ids, answers)
    assert seen[False] == seen[True]
    assert sum(answered for answered, _ in seen[True][1]) >= 6
