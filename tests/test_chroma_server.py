"""Server mode on a real `chroma run`: ingest, ask, incremental re-ingest, delete, filters."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, SEED, chroma_server, free_port

from qa import Filters, Settings, answer
from qa.index.store import StoreError, open_index
from qa.ingestion.job import ingest
from qa.ingestion.loaders import display_source

pytestmark = pytest.mark.server

UN_QUESTION = "Which UN resolutions demand withdrawal?"
SECOND = "001_harbour.txt"
SECOND_TEXT = """ date 2021-05-02 By Baltic Wire

By Anna Keller

The Orvane port authority approved a budget of 4,812 million crowns for the Kelvaro bridge.

Construction of the Kelvaro bridge is due to finish in March 2029, officials said. The bridge
will link the old harbour with the new container terminal on the northern shore.
"""


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Chroma server on a free port of 127.0.0.1, stopped after the module."""
    with chroma_server(tmp_path_factory.mktemp("chroma-server")) as url:
        yield url


@pytest.fixture(scope="module")
def served(chroma_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The seed corpus plus a second article, ingested into the server."""
    corpus = tmp_path_factory.mktemp("served") / "corpus"
    corpus.mkdir()
    shutil.copy(ROOT / "corpus" / SEED, corpus / SEED)
    (corpus / SECOND).write_text(SECOND_TEXT, encoding="utf-8")
    settings = Settings(store_dir=corpus.parent / "store", chroma_url=chroma_url)
    report = ingest([corpus], settings)
    assert report.failed == [] and len(report.added) == 2, report.summary()
    return {"settings": settings, "corpus": corpus, "report": report}


def _server_ids(url: str, collection: str) -> set[str]:
    """Every id in the server's collection, read by a client of its own."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    port = int(url.rsplit(":", 1)[1])
    client = chromadb.HttpClient(
        host="127.0.0.1", port=port, settings=ChromaSettings(anonymized_telemetry=False)
    )
    return set(client.get_collection(collection).get(include=[])["ids"])


def test_ingest_writes_vectors_to_the_server(served: dict[str, Any], chroma_url: str) -> None:
    settings = served["settings"]
    index = open_index(settings)
    assert index.where == chroma_url
    assert _server_ids(chroma_url, "articles") == set(index.chunk_ids())
    assert served["report"].chunks_embedded == index.count() > 0
    # The ledger is local, named after the server and collection.
    assert (settings.store_dir / f"ledger-127.0.0.1_{chroma_url.rsplit(':', 1)[1]}-articles"
            ".sqlite").exists()  # fmt: skip


def test_ask_answers_from_the_server(served: dict[str, Any]) -> None:
    a = answer(UN_QUESTION, settings=served["settings"])
    assert a.answered
    for number in ("822", "853", "874", "884"):
        assert number in a.text
    (c,) = a.citations
    assert "resolutions (822, 853, 874 and 884)" in c.quote
    assert c.source == display_source(served["corpus"] / SEED)
    text = (served["corpus"] / SEED).read_text(encoding="utf-8")
    assert text[c.start : c.end] == c.quote


def test_publisher_filter_runs_on_the_server(served: dict[str, Any]) -> None:
    settings = served["settings"]
    index = open_index(settings)
    second = display_source(served["corpus"] / SECOND)
    from qa.models.registry import get_embedder

    vector = get_embedder(settings.embedder).embed([UN_QUESTION])[0]
    found = index.dense_search(vector, 10, Filters(publishers=("Baltic Wire",)))
    assert sorted(cid for cid, _ in found) == index.chunk_ids(second)
    a = answer("How much did the port authority approve for the Kelvaro bridge?",
               settings=settings, filters=Filters(publishers=("Baltic Wire",)))  # fmt: skip
    assert a.answered and "4,812 million crowns" in a.text
    assert {c.publisher for c in a.citations} == {"Baltic Wire"}
    other = answer(UN_QUESTION, settings=settings, filters=Filters(publishers=("Reuters",)))
    assert not other.answered and other.passages == ()


def test_reingest_unchanged_embeds_nothing(served: dict[str, Any]) -> None:
    again = ingest([served["corpus"]], served["settings"])
    assert again.chunks_embedded == 0
    assert (again.added, again.replaced, again.removed) == ([], [], [])
    indexed = [a.source for a in open_index(served["settings"]).articles()]
    assert sorted(again.unchanged) == indexed


def test_deleted_file_leaves_the_server(served: dict[str, Any], chroma_url: str) -> None:
    settings = served["settings"]
    index = open_index(settings)
    second = display_source(served["corpus"] / SECOND)
    gone = index.chunk_ids(second)
    kept = index.chunk_ids(display_source(served["corpus"] / SEED))
    assert gone and set(gone) <= _server_ids(chroma_url, "articles")
    (served["corpus"] / SECOND).unlink()
    report = ingest([served["corpus"]], settings)
    assert report.removed == [second]
    assert report.chunks_removed == len(gone)
    assert _server_ids(chroma_url, "articles") == set(kept)
    assert index.verify() == {"missing_in_chroma": [], "orphans_in_chroma": [],
                              "keyword_index": [], "cache_vs_server": []}  # fmt: skip


def test_server_that_is_down_names_the_url(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens on a port just freed
    settings = Settings(store_dir=tmp_path / "store", chroma_url=url)
    folder = tmp_path / "corpus"
    folder.mkdir()
    shutil.copy(ROOT / "corpus" / SEED, folder / SEED)
    started = time.monotonic()
    with pytest.raises(StoreError) as error:
        ingest([folder], settings)
    assert str(error.value).startswith(f"Chroma server at {url} is not reachable (")
    assert "chroma run --path DIR --port N" in str(error.value)
    assert time.monotonic() - started < 30
