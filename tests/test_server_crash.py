"""Ingests into a Chroma server killed with SIGKILL at seeded moments: readers never see half
an ingest, and the next ingest leaves exactly what a clean ingest leaves, on the server and in
every front end's cache.

Each round changes the archive (after the first), starts `qa ingest --chroma-url` again and
again, each run killing itself at a seeded point of its progress (`qa.crash_points`: reading a
file, embedding a batch, the n-th write), until a run finishes.
A second front end (its own folder, polling every 0.3 s) is checked all along by a thread: each
article it holds has all its chunks, under its key, and nothing else. After each round the
server's chunks, the manifest and both caches are compared with a clean ingest of the same
folder into a collection of its own.
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
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import chroma_server
from test_crash import kill_point, make_archive, mutate

from qa.config import Settings
from qa.index.manifest import BUCKETS
from qa.index.store import Index, close_indexes
from qa.index.sync import named_chunks

pytestmark = [pytest.mark.slow, pytest.mark.server]

FAKE = "fake:hash"
SEED = 20260415
ARTICLES = 1500
KILLS = 20
MAX_ROUNDS = 12


def ingest_cmd(url: str, collection: str, store: Path) -> list[str]:
    return [sys.executable, "-m", "qa.cli", "ingest", "--embedder", FAKE, "--chroma-url", url,
            "--collection", collection, "--store", str(store), "arts"]  # fmt: skip


def run(cmd: list[str], cwd: Path) -> None:
    out = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr


def half_articles(ledger: Path) -> list[Any]:
    """Articles of a cache that lack a chunk, or hold one not theirs: in one read snapshot."""
    with sqlite3.connect(f"file:{ledger}?mode=ro", uri=True, timeout=30) as db:
        return db.execute(
            "SELECT a.source, a.chunks, count(c.id),"
            " sum(substr(c.id, 1, length(a.key)) != a.key) FROM articles a"
            " LEFT JOIN chunks c USING (source) GROUP BY a.source"
            " HAVING count(c.id) != a.chunks OR sum(substr(c.id, 1, length(a.key)) != a.key)"
        ).fetchall()


def rows(index: Index) -> tuple[list[Any], list[Any]]:
    """A cache's articles (without the machine's paths and versions) and chunks."""
    db = index.ledger.db
    articles = db.execute(
        "SELECT source, key, text_hash, title, date, publisher, author, chunks, header"
        " FROM articles ORDER BY source"
    ).fetchall()
    chunks = db.execute(
        "SELECT id, source, idx, start, end, text, date_int, publisher, terms FROM chunks"
        " ORDER BY id"
    ).fetchall()
    return articles, chunks


def version_record(index: Index) -> Any:
    return index.manifest.collection.get(ids=["version"], include=["metadatas"])["metadatas"]


@pytest.fixture
def chroma_url(tmp_path: Path) -> Iterator[str]:
    (tmp_path / "server").mkdir()
    with chroma_server(tmp_path / "server") as url:
        yield url
    close_indexes()


def test_killed_server_ingests_leave_every_front_end_exact(
    chroma_url: str, tmp_path: Path, record_property: Any
) -> None:
    rng = random.Random(SEED)
    work = tmp_path / "work"
    make_archive(work / "arts", ARTICLES, SEED)
    reader = Index(Settings(store_dir=tmp_path / "reader", chroma_url=chroma_url,
                            collection="crash", embedder=FAKE, sync_s=0.3))  # fmt: skip
    seen_half: list[Any] = []
    stop = threading.Event()

    def watch() -> None:  # what a front end's questions read, all the time
        while not stop.is_set():
            seen_half.extend(half_articles(reader.ledger.path))
            time.sleep(0.02)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    kills: list[str] = []
    rounds = 0

    def enough() -> bool:
        return len(kills) >= KILLS and kills.count("writing") >= KILLS // 2

    try:
        for round_ in range(MAX_ROUNDS):
            if round_:
                mutate(work / "arts", SEED + round_)
            # Killed again and again, each run at a point of its own progress
            # (`qa.crash_points`), until a run finishes: the same kills on any machine.
            while not enough() and len(kills) < 3 * KILLS:
                before = version_record(reader)
                spec = kill_point(rng, before_share=1 / 4, writes=(2, 14))
                out = subprocess.run(
                    ingest_cmd(chroma_url, "crash", work / "store"),
                    cwd=work,
                    capture_output=True,
                    env={**os.environ, "QA_TEST_KILL_AT": spec},
                    timeout=900,
                )
                if out.returncode != -signal.SIGKILL:
                    assert out.returncode == 0, out.stderr.decode()
                    break
                # A run that began writing marked the version record (dirty, its lease).
                kills.append("writing" if version_record(reader) != before else "before writing")
            run(ingest_cmd(chroma_url, "crash", work / "store"), work)
            reference = tmp_path / f"reference-{round_}"
            shutil.copytree(work / "arts", reference / "arts")
            run(ingest_cmd(chroma_url, f"reference-{round_}", reference / "store"), reference)
            check_round(chroma_url, work / "store", reference / "store", reader, round_)
            rounds = round_ + 1
            if enough():
                break
    finally:
        stop.set()
        watcher.join(timeout=30)
    assert seen_half == []
    print(f"\n{len(kills)} kills ({kills.count('writing')} while writing) in {rounds} rounds")
    record_property("kills", len(kills))
    assert len(kills) >= KILLS
    assert kills.count("writing") >= KILLS // 2


def check_round(url: str, store: Path, reference_store: Path, reader: Index, round_: int) -> None:
    def open_(folder: Path, collection: str) -> Index:
        return Index(Settings(store_dir=folder, chroma_url=url, collection=collection,
                              embedder=FAKE, sync_s=3600))  # fmt: skip

    ingester, reference = open_(store, "crash"), open_(reference_store, f"reference-{round_}")
    reader.sync()
    version = reader.manifest.state()
    assert not version.dirty
    want = rows(reference)
    assert rows(ingester) == want
    assert rows(reader) == want
    ids = {c[0] for c in want[1]}
    assert ingester.chunk_store.all_ids() == ids  # no orphans, nothing missing
    assert named_chunks(ingester.manifest, version.version) == ids
    # One record per article on the server, besides the tombstones of deleted ones.
    records = [r for b in range(BUCKETS) for r in ingester.manifest.records(above=0, in_bucket=b)]
    live = [r for r in records if not r.deleted]
    assert sorted(r.source for r in live) == [a[0] for a in want[0]]
    assert len({r.source for r in records}) == len(records)
    clean = {"missing_in_chroma": [], "orphans_in_chroma": [], "keyword_index": [],
             "cache_vs_server": []}  # fmt: skip
    assert ingester.verify() == clean
    assert reader.verify() == clean
    ingester.close()
    reference.close()
