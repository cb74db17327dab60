"""End to end on real parts: the bundled embedder, Chroma on disk, the SQLite ledger."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, SEED

from qa import Filters, Settings, answer, build_chain
from qa.answering.pipeline import QuestionError
from qa.answering.runnables import HybridRetriever
from qa.index.store import StoreError, open_index
from qa.ingestion.chunking import article_key, signature
from qa.ingestion.job import ingest
from qa.ingestion.loaders import load_file

UN_QUESTION = "Which UN resolutions demand withdrawal?"
SEED_SOURCE = f"corpus/{SEED}"


def test_un_question_is_answered_with_the_exact_quote(corpus_settings: Settings) -> None:
    a = answer(UN_QUESTION, settings=corpus_settings)
    assert a.answered
    for number in ("822", "853", "874", "884"):
        assert number in a.text
    assert a.text.endswith("[1]")
    (c,) = a.citations
    assert c.n == 1
    assert c.source == SEED_SOURCE
    assert (c.date, c.publisher) == ("2020-04-01", "Azernews")
    assert "resolutions (822, 853, 874 and 884)" in c.quote
    article = (ROOT / "corpus" / SEED).read_text(encoding="utf-8")
    assert article[c.start : c.end] == c.quote
    assert c.passage[c.start - c.passage_start : c.end - c.passage_start] == c.quote


def test_unanswerable_question_abstains(corpus_settings: Settings) -> None:
    a = answer("What was the voter turnout in those elections?", settings=corpus_settings)
    assert not a.answered
    assert a.citations == ()
    assert a.text.startswith("The corpus does not say")


def test_follow_up_uses_the_conversation(corpus_settings: Settings) -> None:
    first = answer("Which group mediates the conflict?", settings=corpus_settings)
    assert first.answered and "Minsk Group" in first.text
    follow = answer(
        "and who co-chairs it?",
        history=[("Which group mediates the conflict?", first.text)],
        settings=corpus_settings,
    )
    assert follow.answered
    assert follow.query != follow.question
    assert "Which group mediates the conflict?" in follow.query
    assert "United States, Russia and France" in follow.citations[0].quote


def test_empty_question_gives_a_clear_error(corpus_settings: Settings) -> None:
    with pytest.raises(QuestionError, match="the question is empty"):
        answer("  ?!  ", settings=corpus_settings)


def test_publisher_filter_excludes_other_publishers(corpus_settings: Settings) -> None:
    a = answer(UN_QUESTION, settings=corpus_settings, filters=Filters(publishers=("Reuters",)))
    assert not a.answered and a.passages == ()


def test_langchain_retriever_and_chain(corpus_settings: Settings) -> None:
    docs = HybridRetriever(settings=corpus_settings).invoke(UN_QUESTION)
    assert docs[0].metadata["source"] == SEED_SOURCE
    assert "884" in " ".join(d.page_content for d in docs)
    result = build_chain(corpus_settings).invoke({"question": UN_QUESTION})
    assert result.answered and "884" in result.text


def _ids_in_chroma(settings: Settings, ids: list[str]) -> list[str]:
    got = open_index(settings).collection.get(ids=ids, include=[])["ids"]
    return sorted(got)


def test_incremental_reingest(tmp_path: Path, article_dir: Path) -> None:
    settings = Settings(store_dir=tmp_path / "store")
    extra = article_dir / "second.txt"
    extra.write_text(
        " date 2021-05-02 By Example Times\n\nThe harbour bridge opened in May "
        "after four years of work. It cost 40 million euros.\n",
        encoding="utf-8",
    )
    first = ingest([article_dir], settings)
    assert sorted(first.added) == sorted([str(article_dir / SEED), str(article_dir / "second.txt")])
    index = open_index(settings)
    seed_source = str(article_dir / SEED)
    old_ids = index.chunk_ids(seed_source)

    again = ingest([article_dir], settings)
    assert again.chunks_embedded == 0
    assert again.added == again.replaced == again.removed == []
    assert len(again.unchanged) == 2

    # Touching a file without changing it still embeds nothing.
    os.utime(article_dir / SEED, None)
    assert ingest([article_dir], settings).chunks_embedded == 0

    # A changed article is replaced: new ids in, old ids out of Chroma and the keyword index.
    seed = article_dir / SEED
    seed.write_text(
        seed.read_text(encoding="utf-8") + "\nA zeppelin was seen over Baku.\n", encoding="utf-8"
    )
    changed = ingest([article_dir], settings)
    assert changed.replaced == [seed_source]
    (article,), _ = load_file(seed, source=seed_source)
    key = article_key(
        article, signature(settings.embedder, settings.chunk_tokens, settings.chunk_overlap_tokens)
    )
    new_ids = index.chunk_ids(seed_source)
    assert new_ids == [f"{key}-{i:04d}" for i in range(len(new_ids))]
    assert set(new_ids).isdisjoint(old_ids)
    assert _ids_in_chroma(settings, old_ids) == []
    assert _ids_in_chroma(settings, new_ids) == sorted(new_ids)
    assert [cid for cid, _ in index.keyword_search("zeppelin", 5)] == [new_ids[-1]]

    # A deleted article leaves the index.
    second_ids = index.chunk_ids(str(extra))
    extra.unlink()
    removed = ingest([article_dir], settings)
    assert removed.removed == [str(extra)]
    assert index.chunk_ids(str(extra)) == []
    assert _ids_in_chroma(settings, second_ids) == []
    assert index.keyword_search("harbour bridge", 5) == []
    assert index.verify() == {"missing_in_chroma": [], "orphans_in_chroma": [], "keyword_index": []}


def test_another_embedder_is_refused(tmp_path: Path, article_dir: Path) -> None:
    settings = Settings(store_dir=tmp_path / "store", embedder="fake:hash")
    ingest([article_dir], settings)
    with pytest.raises(StoreError, match="holds vectors of fake:hash, not sentence-transformers"):
        open_index(settings.replace(embedder="sentence-transformers:all-MiniLM-L6-v2"))


def test_cli_json_output(corpus_settings: Settings) -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "qa.cli",
            "ask",
            "--json",
            "--store",
            str(corpus_settings.store_dir),
            UN_QUESTION,
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    data = json.loads(out.stdout)
    assert data["answered"] is True
    assert data["question"] == UN_QUESTION
    assert data["citations"][0]["source"] == SEED_SOURCE
    assert "resolutions (822, 853, 874 and 884)" in data["citations"][0]["quote"]
    assert data["passages"][0]["chunk_id"] == data["citations"][0]["chunk_id"]


def test_help_does_not_import_torch() -> None:
    code = (
        "import sys; from qa.cli.main import main; assert 'torch' not in sys.modules; print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.stdout.strip() == "ok", out.stderr


def test_extractive_answering_does_not_import_langchain() -> None:
    # LangChain costs ~0.85 s of a cold `qa ask`; only qa.answering.runnables and generation
    # need it.
    code = (
        "import sys; import qa.answering.pipeline, qa.cli.main; "
        "print(sorted(m for m in sys.modules if m.startswith('langchain')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.stdout.strip() == "[]", out.stderr


def test_public_surface_is_pinned() -> None:
    import qa

    assert qa.__all__ == [
        "Answer",
        "Article",
        "Chunk",
        "Citation",
        "Filters",
        "HybridRetriever",
        "IngestBusy",
        "IngestReport",
        "Passage",
        "QuestionError",
        "Removed",
        "Settings",
        "StoreError",
        "answer",
        "build_chain",
        "ingest",
        "stream",
    ]


def test_cli_ingest_reports_failures_with_exit_code(tmp_path: Path, article_dir: Path) -> None:
    (article_dir / "broken.pdf").write_bytes(b"<html>not a pdf</html>")
    shutil.copy(article_dir / SEED, article_dir / "copy.txt")
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "qa.cli",
            "ingest",
            "--store",
            str(tmp_path / "s"),
            str(article_dir),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert out.returncode == 1
    assert f"failed: {article_dir / 'broken.pdf'}: not a PDF" in out.stderr
    assert f"duplicate: {article_dir / 'copy.txt'}: same text as {article_dir / SEED}" in out.stdout
    assert "1 added, 0 unchanged, 0 replaced, 0 removed, 1 duplicate, 1 failed" in out.stdout


@pytest.mark.parametrize(
    ("question", "quote", "short"),
    [
        ("Who wrote the article about NATO rejecting the elections?", "By Akbar Mammadov",
         "Akbar Mammadov"),
        ("Which outlet published the article on the Nagorno-Karabakh elections?",
         "date 2020-04-01 By Azernews", "Azernews"),
        ("When was the article about NATO rejecting the elections published?",
         "date 2020-04-01 By Azernews", "2020-04-01"),
    ],
)  # fmt: skip
def test_header_facts_are_answered_from_the_header_line(
    corpus_settings: Settings, question: str, quote: str, short: str
) -> None:
    a = answer(question, settings=corpus_settings)
    assert (a.answered, a.text, a.short) == (True, f"{quote} [1]", short)
    (c,) = a.citations
    article = (ROOT / "corpus" / SEED).read_text(encoding="utf-8")
    assert (c.source, c.start, c.end) == (
        SEED_SOURCE,
        article.index(quote),
        article.index(quote) + len(quote),
    )
    assert article[c.start : c.end] == c.quote == quote
    assert 0.5 <= a.confidence <= 1.0 and a.verdict == "well supported"


def test_answers_carry_a_confidence_and_a_short_span(corpus_settings: Settings) -> None:
    a = answer("In what year was the cease-fire agreement signed?", settings=corpus_settings)
    assert a.answered and a.short == "1994"
    assert "cease-fire agreement in 1994" in a.citations[0].quote
    assert 0.0 <= a.confidence <= 1.0
    data = json.loads(json.dumps(a.to_dict()))
    assert (data["short"], data["verdict"]) == ("1994", a.verdict)


def test_a_failed_generative_answerer_falls_back_with_a_typed_reason(
    corpus_settings: Settings,
) -> None:
    # Nothing listens on port 9: the backend fails at once and the extractive answer is shown.
    down = corpus_settings.replace(answerer="openai:none", openai_base_url="http://127.0.0.1:9/v1")
    a = answer(UN_QUESTION, settings=down)
    assert (a.answerer, a.fallback) == ("extractive", "failed")
    assert a.notice.endswith("showing the extractive answer")
    assert answer(UN_QUESTION, settings=corpus_settings).fallback == ""
