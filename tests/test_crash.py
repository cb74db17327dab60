"""Ingests killed with SIGKILL at random moments leave an index that the next ingest makes exact.

Each test starts the real CLI (`python -m qa.cli ingest`) in a subprocess, kills it at seeded
random moments (after a random time, or after a random number of ledger commits, which lands the
kill inside the writing phase), runs it again to completion and compares the store with a clean
ingest of the same folder into a fresh store: the same articles, the same chunk ids and text, the
same vectors in Chroma, no duplicates, no orphans, no pending writes, and `qa doctor` (Chroma,
ledger and keyword index agree) clean.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import wait_until

from qa import crash_points
from qa.config import Settings
from qa.index.store import Index
from qa.ingestion.job import IngestBusy, ingest

pytestmark = pytest.mark.slow

FAKE = "fake:hash"
REAL = Settings().embedder
LEDGER = "ledger-articles.sqlite"
SEED = 20260401
VOCABULARY = (
    "harbour council minister election bridge budget river festival court ruling parliament "
    "treaty farmers harvest storm coast railway museum hospital school police mayor village "
    "city trade export border talks peace summit energy pipeline solar wind market prices "
    "workers strike union factory airport flight ferry island bank loan tax reform"
)
WORDS = VOCABULARY.split()
PUBLISHERS = ("Azernews", "Reuters", "Le Monde", "Kölner Zeitung", "The Times")


# --- a deterministic archive -------------------------------------------------------------------


def article_text(rng: random.Random, n: int, sentences: tuple[int, int] = (6, 30)) -> str:
    text = []
    for _ in range(rng.randint(*sentences)):
        words = [rng.choice(WORDS) for _ in range(rng.randint(6, 18))]
        text.append(" ".join(words).capitalize() + ".")
    date = f"20{rng.randint(15, 24)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    publisher = PUBLISHERS[n % len(PUBLISHERS)]
    return f"date {date} By {publisher}\nBy Author {n}\n\nStory {n}. {' '.join(text)}\n"


def make_archive(folder: Path, count: int, seed: int, sentences: tuple[int, int] = (6, 30)) -> None:
    rng = random.Random(seed)
    folder.mkdir(parents=True)
    for n in range(count):
        (folder / f"a{n:04d}.txt").write_text(article_text(rng, n, sentences), encoding="utf-8")


def mutate(folder: Path, seed: int) -> None:
    """Change some articles, delete some, add some (deterministically), as a user's week does."""
    rng = random.Random(seed)
    files = sorted(folder.iterdir())
    chosen = rng.sample(files, k=len(files) // 3)
    changed, removed = chosen[: len(chosen) * 2 // 3], chosen[len(chosen) * 2 // 3 :]
    for path in changed:
        path.write_text(path.read_text(encoding="utf-8") + "A correction was added later.\n")
    for path in removed:
        path.unlink()
    for n in range(len(removed)):
        new = 9000 + n
        (folder / f"a{new:04d}.txt").write_text(article_text(rng, new), encoding="utf-8")


# --- running and killing the CLI ---------------------------------------------------------------


def ingest_cmd(store: Path, embedder: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "qa.cli",
        "ingest",
        "--embedder",
        embedder,
        "--store",
        str(store),
        "arts",
    ]


def ledger_writes(store: Path) -> tuple[Any, ...] | None:
    """What an ingest has written to a store's ledger so far (chunk ids, pending journal,
    article keys), read-only; None before the ledger exists."""
    path = store / LEDGER
    if not path.exists():
        return None
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        return tuple(
            tuple(db.execute(sql).fetchall())
            for sql in (
                "SELECT id FROM chunks ORDER BY id",
                "SELECT id FROM pending ORDER BY id",
                "SELECT source, key, size, mtime_ns FROM articles ORDER BY source",
            )
        )
    except sqlite3.OperationalError:  # killed while creating it: no table yet
        return None
    finally:
        db.close()


@dataclass
class Kills:
    """What the kill loop did: for the report and for the asserts."""

    kills: int = 0
    in_writing: int = 0
    """Kills that came after the killed process had written to the ledger."""
    finished: int = 0
    modes: list[str] = field(default_factory=list)


def kill_point(rng: random.Random, before_share: float, writes: tuple[int, int]) -> str:
    """Where the next ingest kills itself (`qa.crash_points`): a share before its first write
    (reading a file, or before embedding a batch), the others at a random write (the n-th of
    `writes`, a range: settling what a killed run left, a batch's journal, its Chroma write,
    its ledger transaction, the deletion of replaced vectors, the settling of the journal),
    sometimes a few ms later so the kill lands inside that write."""
    if rng.random() < before_share:
        return f"{rng.choice(('read', 'embed'))}:{rng.randint(1, 3)}"
    delay = rng.choice((0.0, rng.uniform(0.0, 0.03)))
    return f"write:{rng.randint(*writes)}:{delay:.3f}"


def writes_before_kill(spec: str, stderr: str) -> bool:
    """Whether an ingest killed at `spec` had written, by the points it reported: a write point
    passed before the one it was killed at, or the one a kill with a delay came a few ms into."""
    point, _, delay = [*spec.split(":"), "0"][:3]
    writes = len(re.findall(r"^crash point: write \d+$", stderr, re.MULTILINE))
    if point == "write" and float(delay) == 0:
        writes -= 1  # killed before that write began
    return writes > 0


def run_with_kills(
    cwd: Path,
    store: Path,
    embedder: str,
    rng: random.Random,
    kills: int,
    stats: Kills,
    *,
    writes: tuple[int, int] = (3, 10),
    before_share: float = 1 / 3,
) -> None:
    """Start the ingest `kills` times, each killing itself at a chosen point (or finishing).

    The ingest's own progress decides the moment, not the clock: on a fast machine and a
    slow one the kills land at the same points.
    """
    for _ in range(kills):
        spec = kill_point(rng, before_share, writes)
        out = subprocess.run(
            ingest_cmd(store, embedder),
            cwd=cwd,
            capture_output=True,
            env={**os.environ, "QA_TEST_KILL_AT": spec},
            timeout=900,
        )
        if out.returncode != -signal.SIGKILL:
            assert out.returncode == 0, out.stderr.decode()
            stats.finished += 1
            return  # it finished before its kill point: the round is done
        wrote = writes_before_kill(spec, out.stderr.decode())
        stats.kills += 1
        stats.in_writing += wrote
        stats.modes.append(f"{spec}{'+w' if wrote else ''}")


def run_to_completion(cwd: Path, store: Path, embedder: str) -> str:
    out = subprocess.run(
        ingest_cmd(store, embedder), cwd=cwd, capture_output=True, text=True, timeout=900
    )
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr
    return out.stdout


def doctor(store: Path, embedder: str) -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "qa.cli",
            "doctor",
            "--embedder",
            embedder,
            "--store",
            str(store),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert (out.returncode, out.stdout) == (
        0,
        "missing_in_chroma: 0\norphans_in_chroma: 0\nkeyword_index: 0\n",
    ), out.stderr


@dataclass(frozen=True)
class Ledger:
    articles: list[tuple[Any, ...]]
    chunks: list[tuple[Any, ...]]
    pending: int


def ledger(store: Path) -> Ledger:
    """The ledger's articles and chunks (read-only, so no Chroma client is cached here)."""
    db = sqlite3.connect(f"file:{store / LEDGER}?mode=ro", uri=True, timeout=30)
    try:
        articles = db.execute(
            "SELECT source, key, text_hash, title, date, publisher, author, chunks FROM articles"
            " ORDER BY source"
        ).fetchall()
        chunks = db.execute(
            "SELECT id, source, idx, start, end, text, date_int, publisher FROM chunks ORDER BY id"
        ).fetchall()
        pending = int(db.execute("SELECT count(*) FROM pending").fetchone()[0])
    finally:
        db.close()
    return Ledger(articles, chunks, pending)


def assert_same_ledger(store: Path, reference: Path) -> None:
    got, want = ledger(store), ledger(reference)
    assert got.pending == 0
    ids = [c[0] for c in got.chunks]
    assert len(ids) == len(set(ids)), "duplicate chunk ids"
    assert ids == [c[0] for c in want.chunks]
    assert got.chunks == want.chunks
    assert got.articles == want.articles


def chroma_contents(store: Path, embedder: str) -> dict[str, tuple[Any, Any, np.ndarray]]:
    index = Index(Settings(store_dir=store, embedder=embedder))
    got = index.collection.get(include=["documents", "metadatas", "embeddings"])
    assert index.verify() == {"missing_in_chroma": [], "orphans_in_chroma": [], "keyword_index": []}
    index.close()
    return {
        i: (d, m, np.asarray(e))
        for i, d, m, e in zip(
            got["ids"], got["documents"], got["metadatas"], got["embeddings"], strict=True
        )
    }


def assert_same_chroma(store: Path, reference: Path, embedder: str, atol: float) -> None:
    got, want = chroma_contents(store, embedder), chroma_contents(reference, embedder)
    assert sorted(got) == sorted(want)
    for cid, (doc, meta, vector) in want.items():
        assert got[cid][:2] == (doc, meta), cid
        assert np.allclose(got[cid][2], vector, atol=atol), cid


@contextmanager
def background(cmd: list[str], cwd: Path) -> Iterator[subprocess.Popen[str]]:
    """A process that must end with exit code 0 (killed if the block fails)."""
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        yield proc
    finally:
        if proc.poll() is None and sys.exc_info()[0] is not None:
            proc.kill()
        _, err = proc.communicate(timeout=900)
    assert proc.returncode == 0, err


# --- the tests --------------------------------------------------------------------------------

ARTICLES = 1000
KILLS = 22
MAX_ROUNDS = 8


def test_killed_ingests_leave_an_exact_index(tmp_path: Path, record_property: Any) -> None:
    """Rounds of: ingest killed again and again, run to completion, compare; then the user
    changes, deletes and adds articles (so replacing and removing get killed too)."""
    rng = random.Random(SEED)
    work, store = tmp_path / "work", tmp_path / "work" / "store"
    make_archive(work / "arts", ARTICLES, SEED)
    stats = Kills()
    done: list[tuple[Ledger, Path]] = []  # each round's ledger, and its clean reference
    references: list[subprocess.Popen[bytes]] = []
    try:
        for round_ in range(MAX_ROUNDS):
            if round_:
                mutate(work / "arts", SEED + round_)
            run_with_kills(work, store, FAKE, rng, KILLS - stats.kills, stats)
            summary = run_to_completion(work, store, FAKE)
            assert " 0 failed" in summary
            doctor(store, FAKE)
            # The clean ingest of this round's folder runs while the next round is killed.
            reference = tmp_path / f"reference-{round_}"
            shutil.copytree(work / "arts", reference / "arts")
            references.append(
                subprocess.Popen(
                    ingest_cmd(reference / "store", FAKE),
                    cwd=reference,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                )
            )
            done.append((ledger(store), reference / "store"))
            if stats.kills >= KILLS:
                break
    finally:
        for proc in references:
            _, err = proc.communicate(timeout=900)
            assert proc.returncode == 0, err.decode()
    for got, reference in done:
        assert got.pending == 0
        ids = [c[0] for c in got.chunks]
        assert len(ids) == len(set(ids)), "duplicate chunk ids"
        assert got == ledger(reference)
    assert_same_chroma(store, done[-1][1], FAKE, atol=0.0)

    print(
        f"\nkills survived: {stats.kills} ({stats.in_writing} while writing) over "
        f"{len(done)} rounds: {stats.modes}"
    )
    record_property("kills", stats.kills)
    assert stats.kills >= 20
    assert stats.in_writing >= 10


def test_second_ingest_is_refused_and_neither_corrupts(tmp_path: Path) -> None:
    make_archive(tmp_path / "arts", ARTICLES, SEED)
    shutil.copytree(tmp_path / "arts", tmp_path / "reference" / "arts")
    store = tmp_path / "store"
    message = f"another ingest is running on {store}; wait for it to finish and run this one again"
    with (
        background(ingest_cmd(tmp_path / "reference" / "store", FAKE), tmp_path / "reference"),
        background(ingest_cmd(store, FAKE), tmp_path) as first,
    ):
        # Once the first one holds the lock and is writing, it is stopped (SIGSTOP) until both
        # others were refused: on any machine, however fast, it is still running then.
        def writing() -> bool:
            written = ledger_writes(store)
            return first.poll() is not None or bool(written and (written[0] or written[1]))

        wait_until(writing, "the first ingest's first write")
        assert first.poll() is None, "the first ingest ended before it wrote anything"
        first.send_signal(signal.SIGSTOP)
        second = subprocess.run(
            ingest_cmd(store, FAKE), cwd=tmp_path, capture_output=True, text=True, timeout=300
        )
        with pytest.raises(IngestBusy) as caught:
            ingest([tmp_path / "arts"], Settings(store_dir=store, embedder=FAKE))
        assert first.poll() is None, "the first ingest ended before the second was refused"
        first.send_signal(signal.SIGCONT)
    assert (second.returncode, second.stdout, second.stderr) == (2, "", f"Error: {message}\n")
    assert str(caught.value) == message
    assert_same_ledger(store, tmp_path / "reference" / "store")
    doctor(store, FAKE)


def test_killed_ingest_with_the_bundled_embedder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A few kills with the real model, all while it writes (each run embeds a batch first)."""
    # Short articles, one chunk each, in two embedding batches: the model's time goes to
    # starting, not to embedding what the fake embedder covers at scale.
    make_archive(tmp_path / "arts", 300, SEED + 2, sentences=(1, 3))
    store = tmp_path / "store"
    rng = random.Random(SEED + 2)
    stats = Kills()
    # A run's first writes may settle what the killed one left (a Chroma delete, then the
    # ledger): from the 4th on, the kill comes after this run wrote to the ledger.
    run_with_kills(tmp_path, store, REAL, rng, 3, stats, writes=(4, 6), before_share=0.0)
    run_to_completion(tmp_path, store, REAL)
    print(f"\nkills survived (bundled embedder): {stats.kills}: {stats.modes}")
    assert stats.kills == stats.in_writing == 3

    monkeypatch.chdir(tmp_path)  # the same source names as the CLI gave
    reference = tmp_path / "reference"
    assert ingest([Path("arts")], Settings(store_dir=reference)).failed == []
    assert_same_ledger(store, reference)
    # Batches differ between a resumed and a clean ingest, so padding may move the last digits.
    assert_same_chroma(store, reference, REAL, atol=1e-5)


def test_a_kill_point_names_a_point_and_a_count() -> None:
    crash_points.arm("write:3:0.02")
    crash_points.arm(None)  # disarmed: reaching points counts nothing and kills nothing
    crash_points.reached("write")
    for bad in ("write", "write:0", "flush:2", "write:x"):
        with pytest.raises(ValueError, match=r"^a kill point is read\|embed\|write:N\[:delay_s\]"):
            crash_points.arm(bad)
