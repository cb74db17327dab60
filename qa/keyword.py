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
from collections.abc import Sequence
from typing import Any

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


def search(
    db: sqlite3.Connection,
    terms: list[str],
    n: int,
    filters: Filters | None,
    selective: Sequence[str],
) -> list[tuple[str, float]]:
    """BM25 over the chunks holding any of `terms` (and one of `selective`, when given)."""
    match = fts_any(terms)
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
