"""`qa bench` and its corpus generator: determinism, resuming, and the figures' wiring.

Timings are not asserted (benchmarks print numbers; tests check behaviour).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, SEED

from qa import Settings
from qa.evaluation.articles import article, file_name, project_name
from qa.evaluation.bench import bench_settings, check_targets, chunk_counter, run_bench
from qa.evaluation.gencorpus import generate
from qa.ingestion.parsers import parse_txt


def test_articles_are_deterministic_and_differ() -> None:
    text, fact = article(12, seed=3)
    assert article(12, seed=3) == (text, fact)
    assert article(13, seed=3)[0] != text
    assert article(12, seed=4)[0] != text
    assert fact.sentence in text
    assert fact.answer in fact.sentence
    assert project_name(12, seed=3) in fact.question


def test_articles_follow_the_seed_header_convention() -> None:
    text, _ = article(0)
    parsed = parse_txt(text, "x.txt")
    header, byline = text.split("\n\n")[:2]
    assert header == f" date {parsed.date} By {parsed.publisher}"
    assert byline == f"By {parsed.author}"
    assert parsed.title.startswith("The ")


def test_lengths_vary() -> None:
    paragraphs = {article(i)[0].count("\n\n") for i in range(200)}
    assert min(paragraphs) <= 3 and max(paragraphs) >= 15


def test_project_names_are_distinct_past_three_syllables() -> None:
    names = [project_name(i).split()[0] for i in range(70_000)]
    assert len(set(names)) == len(names)
    assert file_name(3141) == "003/003141.txt"


def _words(text: str) -> int:
    return len(text.split())


def test_generate_reaches_the_target_and_resumes(tmp_path: Path) -> None:
    folder = tmp_path / "gen"
    corpus = generate(folder, 3000, _words)
    texts = [article(i)[0] for i in range(corpus.articles)]
    assert sum(map(_words, texts)) == corpus.chunks >= 3000
    assert sum(map(_words, texts[:-1])) < 3000
    assert corpus.articles >= 4
    files = sorted(corpus.articles_dir.rglob("*.txt"))
    assert [f.relative_to(corpus.articles_dir).as_posix() for f in files] == [
        file_name(i) for i in range(corpus.articles)
    ]
    assert files[0].read_text(encoding="utf-8") == texts[0]
    assert [c.evidence for c in corpus.cases] == [article(i)[1].sentence for i in range(len(texts))]

    # An interrupted run: no manifest, one file missing, one half written.
    mtimes = {f: f.stat().st_mtime_ns for f in files}
    (folder / "corpus.json").unlink()
    files[1].unlink()
    files[2].write_text("half", encoding="utf-8")
    again = generate(folder, 3000, _words)
    assert again == corpus
    assert files[1].read_text(encoding="utf-8") == texts[1]
    assert files[2].read_text(encoding="utf-8") == texts[2]
    untouched = [f for f in files if f not in files[1:3]]
    assert all(f.stat().st_mtime_ns == mtimes[f] for f in untouched)

    # Complete: read from the manifest and questions.jsonl, nothing counted again.
    def refuse(text: str) -> int:
        raise AssertionError("counted again")

    assert generate(folder, 3000, refuse) == corpus


def test_another_target_regenerates_and_drops_extra_files(tmp_path: Path) -> None:
    big = generate(tmp_path, 3000, _words)
    small = generate(tmp_path, 300, _words)
    assert small.articles < big.articles
    assert len(list(small.articles_dir.rglob("*.txt"))) == small.articles
    assert json.loads((tmp_path / "corpus.json").read_text())["target"] == 300


def test_chunk_counter_agrees_with_ingest(tmp_path: Path) -> None:
    from qa.index.store import open_index
    from qa.ingestion.job import ingest
    from qa.models.registry import get_embedder

    settings = Settings(store_dir=tmp_path / "store")
    counter = chunk_counter(settings, get_embedder(settings.embedder))
    corpus = generate(tmp_path / "gen", 12, counter)
    report = ingest([corpus.articles_dir], settings)
    assert report.failed == []
    assert open_index(settings).count() == report.chunks_embedded == corpus.chunks


def test_targets_are_checked_against_the_figures() -> None:
    figures = {"ingest_s": 10.0, "naive_ingest_s": 29.0, "reingest_s": 0.1,
               "retrieve_p50_ms": 20.0, "answer_p50_ms": 61.0}  # fmt: skip
    assert check_targets(figures) == {
        "ingest_s <= naive_ingest_s / 3": False,
        "reingest_s <= ingest_s / 50": True,
        "retrieve_p50_ms <= 20": True,
        "answer_p50_ms <= 60": False,
    }


def test_bench_store_is_per_embedder(tmp_path: Path) -> None:
    s = bench_settings(tmp_path, Settings(embedder="onnx-int8:all-MiniLM-L6-v2"))
    assert (s.store_dir, s.collection) == (tmp_path / "store", "bench-onnx-int8-all-minilm-l6-v2")


@pytest.mark.slow
def test_generated_part_builds_once_and_reuses_the_cache(tmp_path: Path) -> None:
    settings = Settings(store_dir=tmp_path / "unused", embedder="fake:hash")
    first = run_bench(None, 60, tmp_path / "cache", settings, questions=5)
    assert first["passages"] >= 60
    assert first["build_chunks_embedded"] == first["passages"]
    assert first["questions"] == 5
    assert 0.0 <= first["hit@5"] <= 1.0
    assert first["cold_start_ms"] > 0
    assert set(first["targets"]) == {
        "retrieve_p50_ms <= 20", "answer_p50_ms <= 60", "peak_rss_mb <= 3000",
    }  # fmt: skip
    assert "peak_rss_mb" in first["notes"]
    second = run_bench(None, 60, tmp_path / "cache", settings, questions=5)
    # The second run embedded nothing: the build's totals are those of the first.
    assert (second["build_chunks_embedded"], second["build_s"]) == (
        first["build_chunks_embedded"],
        first["build_s"],
    )


@pytest.mark.slow
@pytest.mark.server
def test_against_a_server_a_new_front_end_builds_its_cache(tmp_path: Path) -> None:
    from conftest import chroma_server

    from qa.index.store import close_indexes

    (tmp_path / "server").mkdir()
    with chroma_server(tmp_path / "server") as url:
        settings = Settings(store_dir=tmp_path / "unused", embedder="fake:hash", chroma_url=url)
        figures = run_bench(None, 60, tmp_path / "cache", settings, questions=5)
        close_indexes()
    assert figures["cache_passages"] == figures["passages"] >= 60
    assert figures["cache_build_s"] > 0
    # The same answers through the new front end's cache as through the ingesting machine's.
    assert (figures["cache_hit@5"], figures["cache_answer_contains"]) == (
        figures["hit@5"],
        figures["answer_contains"],
    )
    assert figures["cache_extra_rss_mb"] == round(
        figures["cache_peak_rss_mb"] - figures["peak_rss_mb"], 1
    )
    assert {"cache_build_s <= 120", "cache_extra_rss_mb <= 1024"} <= set(figures["targets"])


@pytest.mark.slow
def test_squad_part_times_ours_naive_and_reingest(tmp_path: Path) -> None:
    def para(n: int) -> dict[str, object]:
        context = (ROOT / "corpus" / SEED).read_text()[n * 400 : n * 400 + 400]
        return {"context": context, "qas": [{"id": f"q{n}", "question": "What?",
                                             "answers": [{"text": context[:10]}]}]}  # fmt: skip

    data = {"data": [{"title": f"T{n}", "paragraphs": [para(n)]} for n in range(2)]}
    squad = tmp_path / "squad.json"
    squad.write_text(json.dumps(data), encoding="utf-8")
    figures = run_bench(squad, 0, tmp_path / "cache", Settings(embedder="fake:hash"))
    assert figures["squad_articles"] == 2
    assert figures["squad_chunks"] >= 2 and figures["naive_chunks"] >= 2
    assert figures["ingest_s"] > 0 and figures["naive_ingest_s"] > 0
    assert 0 <= figures["reingest_s"] < figures["ingest_s"]
    assert set(figures["targets"]) == {
        "ingest_s <= naive_ingest_s / 3", "reingest_s <= ingest_s / 50",
    }  # fmt: skip


def test_keyword_search_ranks_only_chunks_with_a_selective_term(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import qa.index.keyword
    from qa.index.store import open_index
    from qa.ingestion.job import ingest

    folder = tmp_path / "articles"
    folder.mkdir()
    for n in range(12):
        (folder / f"{n:02d}.txt").write_text(f"The council met on day {n} to talk.\n")
    (folder / "kel.txt").write_text("The Kelvaro bridge opens in May.\n")
    settings = Settings(store_dir=tmp_path / "store", embedder="fake:hash")
    ingest([folder], settings)
    index = open_index(settings)
    kelvaro = index.chunk_ids(f"{folder}/kel.txt")
    # A small index ranks every match, the Kelvaro chunk first...
    hits = [cid for cid, _ in index.keyword_search("Kelvaro council", 20)]
    assert (len(hits), hits[:1]) == (13, kelvaro)
    # ...a large one (here: from one chunk on) only those holding a selective term.
    monkeypatch.setattr(qa.index.keyword, "SELECTIVE_FROM", 1)
    # "council" is in 12 of 13 chunks: only chunks holding "kelvaro" are ranked...
    assert [cid for cid, _ in index.keyword_search("Kelvaro council", 10)] == kelvaro
    # ...unless no term is selective: then every match is.
    assert len(index.keyword_search("council", 20)) == 12
    assert index.doc_freqs(["council", "kelvaro", "absent"]) == {"council": 12, "kelvaro": 1}

    # Another process adds an article: the cached counts are read afresh.
    (folder / "more.txt").write_text("A second Kelvaro story about the council.\n")
    assert index.count() == 13
    command = [sys.executable, "-m", "qa.cli", "ingest", str(folder), "--store",
               str(settings.store_dir), "--embedder", "fake:hash"]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True)
    assert index.count() == 14
    assert index.doc_freqs(["kelvaro"]) == {"kelvaro": 2}
