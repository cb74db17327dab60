"""The keyword index: SQLite FTS5 over the ledger's chunks, BM25-ranked.

The index holds `qa.text.terms()` of each chunk (our stems and compound catenations) in the
chunks table's `terms` column; triggers keep it in step with that table inside the ledger's
own transactions, so it never disagrees with the ledger and never needs a rebuild. A ledger
written by an older version is rebuilt once on open (`ensure_schema`).
"""

from __future__ import annotations

import logging
import re
import sqlite3
import threading
from collections.abc import Callable, Sequence
from typing import Any

from qa.text import adjacent_catenations, search_terms
from qa.text import terms as text_terms
from qa.types import Filters

log = logging.getLogger(__name__)

KEYWORD_SCHEMA = """
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(
    terms, content='chunks', content_rowid='rowid', tokenize="ascii tokenchars '.'");
CREATE TRIGGER IF NOT EXISTS chunks_ai AFTER INSERT ON chunks BEGIN
    INSERT INTO chunks_fts(rowid, terms) VALUES (new.rowid, new.terms); END;
CREATE TRIGGER IF NOT EXISTS chunks_ad AFTER DELETE ON chunks BEGIN
    INSERT INTO chunks_fts(chunks_fts, rowid, terms) VALUES('delete', old.rowid, old.terms); END;
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_vocab USING fts5vocab(chunks_fts, 'row');
"""
KEYWORD_VERSION = "2"
"""Version 2: the index holds `qa.text.terms()` of each chunk (our stems and compound
catenations) rather than FTS5's own Porter tokens of the text."""

SELECTIVE_SHARE = 0.2
"""In a large index, keyword search ranks only the chunks that hold a query term found in at
most this share of all chunks, when the query has such a term (every term still counts in the
scores). BM25 over every chunk matching a common word took ~250 ms at 100,000 chunks, ~8 ms
with this limit. On SQuAD-48 (1,000 questions, `qa eval --squad`) retrieval hit@1/hit@5 were
0.815/0.954 with it (0.1: 0.810/0.953) and 0.816/0.956 without: a little recall for a lot of
speed, so only large indexes pay it (see `SELECTIVE_FROM`)."""
SELECTIVE_FROM = 20_000
"""Chunks from which keyword search applies the `SELECTIVE_SHARE` limit."""


def date_int(date: str | None) -> int | None:
    """'2020-04-01' -> 20200401, for range filters (Chroma compares numbers only)."""
    if not date or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", date):
        return None
    return int(date.replace("-", ""))


def chunk_terms(text: str) -> str:
    """What the keyword index holds of a chunk's text."""
    return " ".join(text_terms(text))


def ensure_schema(db: sqlite3.Connection, *, rebuild: bool = False) -> None:
    """Create the keyword index, or rebuild one written by an older version from the chunks."""
    row = db.execute("SELECT value FROM meta WHERE key='keyword_version'").fetchone()
    if row is not None and row[0] == KEYWORD_VERSION and not rebuild:
        return
    columns = {r[1] for r in db.execute("PRAGMA table_info(chunks)")}
    article_columns = {r[1] for r in db.execute("PRAGMA table_info(articles)")}
    with db:
        if "header" not in article_columns:
            # Older ledgers did not keep headers: have the next ingest read every file
            # again (an unchanged article is not re-embedded; `touch` stores its header).
            db.execute("ALTER TABLE articles ADD COLUMN header TEXT")
            db.execute("UPDATE articles SET size=-1")
        if "terms" not in columns:
            db.execute("ALTER TABLE chunks ADD COLUMN terms TEXT NOT NULL DEFAULT ''")
        for trigger in ("chunks_ai", "chunks_ad"):
            db.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        db.execute("DROP TABLE IF EXISTS chunks_vocab")
        db.execute("DROP TABLE IF EXISTS chunks_fts")
        rows = db.execute("SELECT rowid, text FROM chunks").fetchall()
        if rows:
            log.info("rebuilding the keyword index of %d chunks", len(rows))
        db.executemany(
            "UPDATE chunks SET terms=? WHERE rowid=?", [(chunk_terms(t), r) for r, t in rows]
        )
        db.executescript(KEYWORD_SCHEMA)
        db.execute("INSERT INTO chunks_fts(chunks_fts) VALUES ('rebuild')")
        db.execute("INSERT OR REPLACE INTO meta VALUES ('keyword_version', ?)", (KEYWORD_VERSION,))


class Stats:
    """How many chunks the ledger holds, and how many hold a term: read on every question and
    costing ms at 100,000 chunks, so cached until the ledger changes (through any connection,
    in any process: `PRAGMA data_version` on a connection of its own tells)."""

    def __init__(self, probe: sqlite3.Connection, db: Callable[[], sqlite3.Connection]) -> None:
        self._probe = probe
        self._db = db
        self._lock = threading.Lock()  # never held while waiting for a query
        self._version: int | None = None
        self._count: int | None = None
        self._df: dict[str, int] = {}

    def _check_fresh(self) -> None:
        with self._lock:
            version = int(self._probe.execute("PRAGMA data_version").fetchone()[0])
            if version != self._version:
                self._version, self._count = version, None
                self._df.clear()

    def changed(self) -> None:
        with self._lock:
            self._count = None
            self._df.clear()

    def count(self) -> int:
        self._check_fresh()
        if self._count is None:
            self._count = int(self._db().execute("SELECT count(*) FROM chunks").fetchone()[0])
        return self._count

    def doc_freqs(self, stems: Sequence[str]) -> dict[str, int]:
        self._check_fresh()
        with self._lock:
            missing = list(dict.fromkeys(t for t in stems if t not in self._df))
        if missing:
            found = doc_freqs(self._db(), missing)
            with self._lock:
                if len(self._df) > 200_000:
                    self._df.clear()
                self._df.update({t: found.get(t, 0) for t in missing})
        with self._lock:
            return {t: d for t in stems if (d := self._df.get(t, 0))}


def search(
    db: sqlite3.Connection,
    query: str,
    n: int,
    filters: Filters | None,
    count: int,
    doc_freqs: Callable[[Sequence[str]], dict[str, int]],
) -> list[tuple[str, float]]:
    """BM25 over the chunks holding the query's terms: (chunk id, score), best first.

    Args:
        db: a connection to the ledger.
        query: the text searched.
        n: results at most.
        filters: publishers and dates.
        count: chunks in the index; from `SELECTIVE_FROM` on, only chunks holding a
            selective term are ranked (every term still counts in their scores).
        doc_freqs: chunks holding each term (cached by the caller).
    """
    terms = search_terms(query)
    if not terms:
        return []
    # "cease fire" in the question finds "ceasefire" in the text (the index holds it).
    joined = [t for t in adjacent_catenations(query) if t not in terms]
    if joined:
        terms += list(doc_freqs(joined))
    match = fts_any(terms)
    if count >= SELECTIVE_FROM:
        df = doc_freqs(terms)
        selective = [t for t in terms if 0 < df.get(t, 0) <= SELECTIVE_SHARE * count]
        if selective and len(selective) < len(terms):
            match = f"({fts_any(selective)}) AND ({match})"
    where, params = sql_filters(filters)
    if where:
        sql = (
            "SELECT c.id, bm25(chunks_fts) AS s FROM chunks_fts JOIN chunks c"
            " ON c.rowid = chunks_fts.rowid WHERE chunks_fts MATCH ?"
            f"{where} ORDER BY s LIMIT ?"
        )
    else:  # join only the n best, not every match
        sql = (
            "SELECT c.id, f.s FROM (SELECT rowid, bm25(chunks_fts) AS s FROM chunks_fts"
            " WHERE chunks_fts MATCH ? ORDER BY s LIMIT ?) f"
            " JOIN chunks c ON c.rowid = f.rowid ORDER BY f.s"
        )
    rows = db.execute(sql, [match, *params, n]).fetchall()
    return [(str(r[0]), -float(r[1])) for r in rows]


def doc_freqs(db: sqlite3.Connection, terms: Sequence[str]) -> dict[str, int]:
    """How many chunks hold each of `terms` (those in none are left out)."""
    out: dict[str, int] = {}
    terms = list(terms)
    for i in range(0, len(terms), 500):
        part = terms[i : i + 500]
        rows = db.execute(
            f"SELECT term, doc FROM chunks_vocab WHERE term IN ({','.join('?' * len(part))})",
            part,
        ).fetchall()
        out.update({str(t): int(d) for t, d in rows})
    return out


def integrity(db: sqlite3.Connection) -> list[str]:
    """FTS5's own comparison of its index with the chunks table: the problems, if any."""
    try:
        db.execute("INSERT INTO chunks_fts(chunks_fts) VALUES ('integrity-check')")
    except sqlite3.DatabaseError as e:
        return [str(e)]
    return []


def fts_any(terms: Sequence[str]) -> str:
    """An FTS5 query matching any of `terms`, each quoted so it is taken as a word."""
    return " OR ".join('"' + t.replace('"', "") + '"' for t in terms)


def sql_filters(filters: Filters | None) -> tuple[str, list[Any]]:
    """The filters as SQL over the chunks table `c`, with their parameters."""
    if filters is None or filters.is_empty():
        return "", []
    sql, params = "", list[Any]()
    if filters.publishers:
        sql += f" AND c.publisher IN ({','.join('?' * len(filters.publishers))})"
        params.extend(filters.publishers)
    if filters.date_from:
        sql += " AND c.date_int >= ?"
        params.append(date_int(filters.date_from))
    if filters.date_to:
        sql += " AND c.date_int <= ?"
        params.append(date_int(filters.date_to))
    return sql, params
