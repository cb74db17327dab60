"""Many front ends, one Chroma: on a real `chroma run`, each front end with a folder of its own.

The server holds the whole index (chunks, the article manifest, the version); a front end's
ledger and keyword index are a cache built from it and kept in step by polling. Ingests take
the server's lease; a token reaches the server through a reverse proxy.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, SEED, WAIT_S, chroma_server, free_port, wait_until

from qa import Settings, answer
from qa.errors import IngestBusy, StoreError
from qa.index.store import Index, close_indexes, open_index
from qa.ingestion.job import ingest
from qa.models.registry import get_embedder

pytestmark = pytest.mark.server

FAKE = "fake:hash"
RARE_QUESTION = "How much did Quilvenbrock ask for?"
STORM = """ date 2024-02-11 By Harbour Ledger

By Mira Tolk

Storms closed the northern coast road for a third day, and the ferries to the outer islands \
stayed in port while the wind blew at more than ninety kilometres an hour. Farmers on the plain \
reported flooded fields, and the weather office expected the rain to ease by the weekend. \
Schools in the coastal villages stayed shut, and the railway ran buses instead of trains \
between the two ports. Odalric Quilvenbrock, who chairs the island council, asked for emergency \
funds of 2.4 million crowns. Volunteers filled sandbags outside the museum, whose cellar flooded \
in the last storm, and the hospital moved patients away from the ground floor.
"""
"""The new article: the rare name is its only tie to the question, in a chunk about a storm."""
NAMES = (
    "Anna Boris Clara Dmitri Elena Farid Greta Jonas Kamala Lukas Mirela Nadia",
    "Keller Lund Voss Orel Marsh Nasser Holm Brandt Petrov Sandoval Moreau Okafor",
    "Orvane Castelmar Dunreach Velmora Brennholt Sarovin Kelthorpe Marisca",
)


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with chroma_server(tmp_path_factory.mktemp("chroma-shared")) as url:
        yield url


@pytest.fixture(autouse=True)
def _close_indexes() -> Iterator[None]:
    yield
    close_indexes()  # their polling threads stop with the test


def front_end(folder: Path, url: str, collection: str, **changes: Any) -> Settings:
    """A front end's settings: a folder of its own, the shared server, a quick poll."""
    values: dict[str, Any] = {"embedder": FAKE, "sync_s": 0.3} | changes
    return Settings(store_dir=folder, chroma_url=url, collection=collection, **values)


def cli(*args: str, store: Path, url: str, collection: str) -> list[str]:
    """A `qa` command against the server with the fake embedder."""
    return [sys.executable, "-m", "qa.cli", *args, "--embedder", FAKE, "--chroma-url", url,
            "--collection", collection, "--store", str(store)]  # fmt: skip


def council_archive(folder: Path) -> None:
    """The seed article and 30 short articles on what the question asks: council chairs asking
    for emergency funds, none of them named Quilvenbrock."""
    folder.mkdir(parents=True)
    shutil.copy(ROOT / "corpus" / SEED, folder / SEED)
    rng = random.Random(7)
    first, last, towns = (words.split() for words in NAMES)
    for n in range(30):
        who, town = f"{rng.choice(first)} {rng.choice(last)}", rng.choice(towns)
        (folder / f"h{n:02d}.txt").write_text(
            f" date 2023-0{rng.randint(1, 9)}-1{rng.randint(0, 9)} By Coast Courier\n\n"
            f"By {rng.choice(first)} {rng.choice(last)}\n\n{who}, who chairs the {town} council,"
            f" asked for emergency funds of {rng.randint(2, 9)}.{rng.randint(1, 9)} million"
            " crowns after the storm.\n",
            encoding="utf-8",
        )


def cites(settings: Settings, source: str) -> bool:
    return any(c.source == source for c in answer(RARE_QUESTION, settings=settings).citations)


@pytest.mark.slow
def test_second_front_end_answers_a_keyword_only_question_and_forgets_a_delete(
    chroma_url: str, tmp_path: Path, record_property: Any
) -> None:
    arts = tmp_path / "arts"
    council_archive(arts)
    real = {"embedder": Settings().embedder, "fetch_k": 10}
    first = front_end(tmp_path / "first", chroma_url, "rare", **real)
    # The default poll (every 2 s): the figure printed is what a deployment sees.
    second = front_end(tmp_path / "second", chroma_url, "rare", **real, sync_s=2.0)
    assert ingest([arts], first).failed == []
    reader = open_index(second)  # built from the server: no local ingest ever ran here
    assert sorted(reader.ledger.chunk_ids()) == sorted(open_index(first).ledger.chunk_ids())

    (arts / "zz_storm.txt").write_text(STORM, encoding="utf-8")
    storm = str(arts / "zz_storm.txt")
    assert ingest([arts], first).added == [storm]
    seen = wait_until(lambda: reader.chunk_ids(storm), "the other front end saw the new article")
    (chunk,) = reader.chunk_ids(storm)
    # Only keyword search finds it: the dense retriever ranks 10 council articles first.
    vector = get_embedder(second.embedder).embed([RARE_QUESTION])[0]
    assert chunk not in {cid for cid, _ in reader.dense_search(vector, 10)}
    assert reader.keyword_search(RARE_QUESTION, 10)[0][0] == chunk
    a = answer(RARE_QUESTION, settings=second)
    assert a.answered and "2.4 million crowns" in a.text
    assert [c.source for c in a.citations] == [storm]
    assert a.citations[0].quote in STORM

    (arts / "zz_storm.txt").unlink()
    assert ingest([arts], first).removed == [storm]
    gone = wait_until(lambda: not reader.chunk_ids(storm), "the other front end forgot it")
    assert not cites(second, storm)
    assert chunk not in {cid for cid, _ in reader.keyword_search(RARE_QUESTION, 10)}
    assert reader.verify() == {"missing_in_chroma": [], "orphans_in_chroma": [],
                               "keyword_index": [], "cache_vs_server": []}  # fmt: skip
    print(f"\nseen by the other front end {seen:.2f} s after the ingest, delete {gone:.2f} s")
    record_property("visible_after_s", max(seen, gone))


def test_cache_carries_headers_and_filters(chroma_url: str, tmp_path: Path) -> None:
    arts = tmp_path / "arts"
    council_archive(arts)
    ingest([arts], front_end(tmp_path / "first", chroma_url, "headers"))
    reader = open_index(front_end(tmp_path / "second", chroma_url, "headers"))
    seed = str(arts / SEED)
    assert reader.headers([seed]) == {seed: " date 2020-04-01 By Azernews\n\nBy Akbar Mammadov\n\n"}
    assert reader.publishers() == ["Azernews", "Coast Courier"]
    assert len(reader.articles()) == 31
    assert reader.count() == len(reader.ledger.chunk_ids()) > 31


# --- the token, through a reverse proxy -----------------------------------------------------


class TokenProxy:
    """A loopback reverse proxy that passes requests carrying `Authorization: Bearer <token>`
    to `upstream` and refuses the others with 401, as an authenticating proxy does."""

    def __init__(self, upstream: str, token: str) -> None:
        self.seen: list[str | None] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                proxy.seen.append(self.headers.get("Authorization"))
                if self.headers.get("Authorization") != f"Bearer {token}":
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", "Bearer")
                    self.send_header("Content-Length", "12")
                    self.end_headers()
                    self.wfile.write(b"unauthorized")
                    return
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                request = urllib.request.Request(
                    upstream + self.path, data=body, headers=headers, method=self.command
                )
                try:
                    with urllib.request.urlopen(request, timeout=60) as response:
                        status, data, kind = response.status, response.read(), response.headers
                except urllib.error.HTTPError as e:
                    status, data, kind = e.code, e.read(), e.headers
                self.send_response(status)
                self.send_header("Content-Type", kind.get("Content-Type", "application/json"))
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _any  # http.server's names

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def proxy(chroma_url: str) -> Iterator[TokenProxy]:
    p = TokenProxy(chroma_url, "s3cret-token")
    yield p
    p.close()


def test_token_reaches_the_server_through_the_proxy(
    proxy: TokenProxy, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    arts = tmp_path / "arts"
    council_archive(arts)
    settings = front_end(tmp_path / "first", proxy.url, "token", chroma_token="s3cret-token")
    assert ingest([arts], settings).failed == []
    reader = open_index(settings.replace(store_dir=tmp_path / "second"))
    assert len(reader.articles()) == 31
    assert proxy.seen and set(proxy.seen) == {"Bearer s3cret-token"}
    assert "s3cret" not in caplog.text
    assert "s3cret" not in repr(settings)


def test_wrong_token_gives_a_clear_error_naming_the_url(
    proxy: TokenProxy, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    wrong = front_end(tmp_path / "a", proxy.url, "token", chroma_token="guessed-wrong")
    with pytest.raises(StoreError) as error:
        Index(wrong)
    assert str(error.value) == (
        f"Chroma server at {proxy.url} refused the request (HTTP 401 from the proxy in front of "
        "it): the token in QA_CHROMA_TOKEN was refused; set QA_CHROMA_TOKEN to the proxy's token"
        " (and QA_CHROMA_TOKEN_HEADER if it expects another header than Authorization)"
    )
    with pytest.raises(StoreError, match="no token was sent \\(QA_CHROMA_TOKEN is not set\\)"):
        Index(front_end(tmp_path / "b", proxy.url, "token"))
    assert "guessed-wrong" not in caplog.text
    # The CLI: the token from the environment only, the error on stderr, exit 2.
    env = os.environ | {"QA_CHROMA_TOKEN": "guessed-wrong", "QA_EMBEDDER": FAKE}
    out = subprocess.run(
        [sys.executable, "-m", "qa.cli", "list", "-v", "--chroma-url", proxy.url,
         "--store", str(tmp_path / "c"), "--collection", "token"],
        capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert out.returncode == 2
    assert out.stderr.strip().endswith(f"Error: {error.value}")
    assert "guessed-wrong" not in out.stdout + out.stderr


def test_a_tenant_and_database_of_its_own(chroma_url: str, tmp_path: Path) -> None:
    """How Chroma Cloud names an index (each API key has its tenant and database)."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    port = int(chroma_url.rsplit(":", 1)[1])
    admin = chromadb.AdminClient(ChromaSettings(
        chroma_api_impl="chromadb.api.fastapi.FastAPI", chroma_server_host="127.0.0.1",
        chroma_server_http_port=port, anonymized_telemetry=False,
    ))  # fmt: skip
    admin.create_tenant("newsroom")
    admin.create_database("archive", tenant="newsroom")
    arts = tmp_path / "arts"
    council_archive(arts)
    place = {"chroma_tenant": "newsroom", "chroma_database": "archive"}
    ingest([arts], front_end(tmp_path / "first", chroma_url, "tenant", **place))
    reader = open_index(front_end(tmp_path / "second", chroma_url, "tenant", **place))
    assert len(reader.articles()) == 31
    assert reader.ledger.path.name == f"ledger-newsroom.archive-127.0.0.1_{port}-tenant.sqlite"
    default = chromadb.HttpClient(host="127.0.0.1", port=port)
    assert "tenant" not in [c.name for c in default.list_collections()]


# --- the lease ------------------------------------------------------------------------------


def test_ingest_waits_for_another_machines_lease_until_it_expires(
    chroma_url: str, tmp_path: Path
) -> None:
    arts = tmp_path / "arts"
    council_archive(arts)
    settings = front_end(tmp_path / "store", chroma_url, "lease")
    manifest = open_index(settings).manifest

    def lease(expires: float) -> dict[str, Any]:
        return {"kind": "lease", "generation": 7, "owner": "elsewhere:4242:cafe",
                "host": "elsewhere", "pid": 4242, "expires": expires}  # fmt: skip

    # What an ingest killed on another machine leaves: a lease nobody renews. While it runs
    # (long enough for the slowest machine to reach the check), an ingest is refused...
    manifest.collection.add(ids=["lease-000000000007"], embeddings=[[1.0]],
                            metadatas=[lease(time.time() + WAIT_S)])  # fmt: skip
    with pytest.raises(IngestBusy, match=r"another ingest \(elsewhere:4242:cafe\) is writing to "):
        ingest([arts], settings)
    # ...and once the clock passes the end it was given (here 2 s on), it is taken over.
    expires = time.time() + 2
    manifest.collection.update(ids=["lease-000000000007"], metadatas=[lease(expires)])
    wait_until(lambda: time.time() > expires, "the lease expired", every_s=0.1)
    assert len(ingest([arts], settings).added) == 31
    assert manifest.collection.get(where={"kind": "lease"})["ids"] == []
    assert manifest.state().version == 1


def test_two_machines_cannot_ingest_at_once(chroma_url: str, tmp_path: Path) -> None:
    """One ingest writes (from one folder); another one, from another folder, is refused."""
    arts = tmp_path / "arts"
    arts.mkdir()
    for n in range(1500):
        (arts / f"a{n:04d}.txt").write_text(f"Story {n}. " + "The council met again. " * 40)
    first = subprocess.Popen(
        cli("ingest", str(arts), store=tmp_path / "one", url=chroma_url, collection="race"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    manifest = open_index(front_end(tmp_path / "probe", chroma_url, "race")).manifest

    def leases() -> dict[str, Any]:
        return manifest.collection.get(where={"kind": "lease"}, include=["metadatas"])

    wait_until(lambda: leases()["ids"] or first.poll() is not None, "the first ingest's lease")
    # Frozen while it writes, the first ingest surely still holds the lease when the second
    # one asks, however slowly the second starts; its renewal (every 20 s) is done for it here.
    first.send_signal(signal.SIGSTOP)
    try:
        held = leases()
        assert len(held["ids"]) == 1, f"the first ingest ended before it was frozen: {held}"
        renewed = held["metadatas"][0] | {"expires": time.time() + WAIT_S}
        manifest.collection.update(ids=held["ids"], metadatas=[renewed])
        second = subprocess.run(
            cli("ingest", str(arts), store=tmp_path / "two", url=chroma_url, collection="race"),
            capture_output=True,
            text=True,
            timeout=WAIT_S,
        )
    finally:
        first.send_signal(signal.SIGCONT)
    _, err = first.communicate(timeout=600)
    assert first.returncode == 0, err
    assert second.returncode == 2
    assert second.stderr.startswith("Error: another ingest (")
    assert f"is writing to {chroma_url}" in second.stderr


# --- the cache: built resumably, checked, rebuilt -------------------------------------------


ARTICLES = 5000
"""One chunk each: a full build commits them 2,000 at a time."""


def test_killed_cache_build_resumes_and_doctor_rebuilds(chroma_url: str, tmp_path: Path) -> None:
    arts = tmp_path / "arts"
    arts.mkdir()
    for n in range(ARTICLES):
        (arts / f"a{n:04d}.txt").write_text(f"Story {n} of the valley. " + "Rain fell. " * 30)
    ingest([arts], front_end(tmp_path / "first", chroma_url, "resume"))
    store = tmp_path / "second"
    doctor = cli("doctor", store=store, url=chroma_url, collection="resume")
    ledger = store / f"ledger-127.0.0.1_{chroma_url.rsplit(':', 1)[1]}-resume.sqlite"
    building = subprocess.Popen(doctor, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def chunks_cached() -> int:
        try:
            with sqlite3.connect(f"file:{ledger}?mode=ro", uri=True) as db:
                return int(db.execute("SELECT count(*) FROM chunks").fetchone()[0])
        except sqlite3.Error:
            return 0

    # Killed as soon as its first batch is committed: two more batches are fetched and
    # committed after it, far more work than this poll's 0.05 s gap.
    wait_until(lambda: chunks_cached() > 0 or building.poll() is not None, "a batch was cached")
    building.kill()
    building.wait()
    half = chunks_cached()
    assert 0 < half < ARTICLES  # one chunk each
    out = subprocess.run([*doctor, "-v"], capture_output=True, text=True, timeout=300)
    assert (out.returncode, out.stdout) == (0, "missing_in_chroma: 0\norphans_in_chroma: 0\n"
                                              "keyword_index: 0\ncache_vs_server: 0\n")  # fmt: skip
    rest = ARTICLES - half
    assert f"{rest} of {ARTICLES} articles, {rest} chunks to fetch" in out.stderr
    # A cache that lost a chunk disagrees with the server; --rebuild builds it again.
    with sqlite3.connect(ledger) as db:
        db.execute("DELETE FROM chunks WHERE rowid = (SELECT min(rowid) FROM chunks)")
    out = subprocess.run(doctor, capture_output=True, text=True, timeout=300)
    assert out.returncode == 1 and "cache_vs_server: 1" in out.stdout
    out = subprocess.run([*doctor, "--rebuild"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    assert chunks_cached() == ARTICLES


def test_a_ledger_from_before_the_manifest_is_published(chroma_url: str, tmp_path: Path) -> None:
    """An index ingested by an older qa (only its ledger knew the articles) moves to the server
    on the next ingest from that machine."""
    arts = tmp_path / "arts"
    council_archive(arts)
    store = tmp_path / "first"
    ingest_cmd = cli("ingest", str(arts), store=store, url=chroma_url, collection="legacy")
    subprocess.run(ingest_cmd, check=True, capture_output=True, timeout=300)
    # As an older qa left it: no manifest on the server, the articles in the ledger only.
    index = Index(front_end(store, chroma_url, "legacy", sync_s=3600))
    index.manifest.collection.delete(where={"kind": {"$ne": "none"}})
    with index.ledger.transaction() as db:
        db.execute("UPDATE articles SET version = NULL")
        index.ledger.set_meta(db, "server_version", None)
    before = sorted(index.ledger.chunk_ids())
    index.close()
    out = subprocess.run(ingest_cmd, capture_output=True, text=True, timeout=300)
    assert "0 chunks embedded" in out.stdout, out.stderr
    assert "publishing 31 articles of this machine's ledger to" in out.stderr
    reader = open_index(front_end(tmp_path / "second", chroma_url, "legacy"))
    assert sorted(reader.ledger.chunk_ids()) == before
    assert reader.verify() == {"missing_in_chroma": [], "orphans_in_chroma": [],
                               "keyword_index": [], "cache_vs_server": []}  # fmt: skip
