"""The ledger: the articles and chunks indexed, with their text, and the keyword index (SQLite).

On disk it is the index's record of what was ingested, written in the same transactions as
the keyword index. Against a Chroma server it is this machine's cache of what the server
holds (`qa.index.sync` fills it); either way questions read only this file.

Each thread reads through a connection of its own (SQLite in WAL mode lets readers run side
by side and never wait for a writer); writes go through one connection, one at a time.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from qa import crash_points
from qa.index import keyword
from qa.index.keyword import chunk_terms, date_int
from qa.index.schema import ARTICLE_COLUMNS, SCHEMA, ArticleInfo, Stored
from qa.types import Chunk, Filters

__all__ = ["ARTICLE_COLUMNS", "ArticleInfo", "Ledger", "Stored"]


class Ledger:
    """One ledger file: articles, chunks, the keyword index, and a few settings (`meta`)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.RLock()
        self._write_lock = threading.RLock()
        self._writer = self._connect()
        self._writer.execute("PRAGMA journal_mode=WAL")
        self._writer.executescript(SCHEMA)
        if "version" not in {r[1] for r in self._writer.execute("PRAGMA table_info(articles)")}:
            with self._writer:
                self._writer.execute("ALTER TABLE articles ADD COLUMN version INTEGER")
        keyword.ensure_schema(self._writer)
        self._stats = keyword.Stats(self._connect(), lambda: self.db)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, check_same_thread=False, timeout=30)
        db.execute("PRAGMA synchronous=NORMAL")
        with self._lock:
            self._connections.append(db)
        return db

    @property
    def db(self) -> sqlite3.Connection:
        """This thread's reading connection."""
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = self._connect()
        return db

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """The writing connection inside one transaction, committed when the block ends."""
        with self._write_lock, self._writer:
            crash_points.reached("write")
            yield self._writer
        self.changed()

    def meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, db: sqlite3.Connection, key: str, value: str | None) -> None:
        """Set (or with None, drop) a meta value inside the transaction `db`."""
        if value is None:
            db.execute("DELETE FROM meta WHERE key=?", (key,))
        else:
            db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    # --- reading ----------------------------------------------------------------------

    def count(self) -> int:
        """Chunks in the ledger."""
        return self._stats.count()

    def doc_freqs(self, stems: Sequence[str]) -> dict[str, int]:
        """How many chunks hold each term (a `qa.text` stem); terms in none are left out."""
        return self._stats.doc_freqs(stems)

    def changed(self) -> None:
        """Forget the cached counts (the ledger was written)."""
        self._stats.changed()

    def articles(self) -> list[ArticleInfo]:
        rows = self.db.execute(
            "SELECT source, title, date, publisher, chunks, path FROM articles ORDER BY source"
        ).fetchall()
        return [ArticleInfo(*row) for row in rows]

    def article(self, source: str) -> dict[str, Any] | None:
        """An article's whole row (`ARTICLE_COLUMNS`)."""
        row = self.db.execute(
            f"SELECT {', '.join(ARTICLE_COLUMNS)} FROM articles WHERE source=?", (source,)
        ).fetchone()
        return None if row is None else dict(zip(ARTICLE_COLUMNS, row, strict=True))

    def versions(self) -> dict[str, int | None]:
        """Every article's source and the server version it came from."""
        return {str(s): v for s, v in self.db.execute("SELECT source, version FROM articles")}

    def headers(self, sources: Sequence[str]) -> dict[str, str]:
        wanted = list(dict.fromkeys(sources))
        if not wanted:
            return {}
        rows = self.db.execute(
            f"SELECT source, header FROM articles WHERE source IN ({','.join('?' * len(wanted))})"
            " AND header IS NOT NULL AND header != ''",
            wanted,
        ).fetchall()
        return {str(r[0]): str(r[1]) for r in rows}

    def publishers(self) -> list[str]:
        rows = self.db.execute(
            "SELECT DISTINCT publisher FROM articles WHERE publisher IS NOT NULL ORDER BY 1"
        )
        return [str(r[0]) for r in rows]

    def stored(self, source: str) -> Stored | None:
        row = self.db.execute(
            "SELECT key, text_hash, size, mtime_ns FROM articles WHERE source=?", (source,)
        ).fetchone()
        return None if row is None else Stored(*row)

    def sources_with_text(self, text_hash: str) -> list[str]:
        rows = self.db.execute(
            "SELECT source FROM articles WHERE text_hash=? ORDER BY source", (text_hash,)
        )
        return [str(r[0]) for r in rows]

    def sources_in(self, folder: Path) -> list[tuple[str, Path]]:
        prefix = str(folder).rstrip("/") + "/"
        rows = self.db.execute(
            "SELECT source, path FROM articles WHERE substr(path, 1, ?) = ? ORDER BY source",
            (len(prefix), prefix),
        )
        return [(str(r[0]), Path(r[1])) for r in rows]

    def sources_of_path(self, path: Path) -> list[str]:
        rows = self.db.execute("SELECT source FROM articles WHERE path=?", (str(path),))
        return [str(r[0]) for r in rows]

    def chunk_ids(self, source: str | None = None) -> list[str]:
        if source is None:
            rows = self.db.execute("SELECT id FROM chunks ORDER BY id")
        else:
            rows = self.db.execute("SELECT id FROM chunks WHERE source=? ORDER BY idx", (source,))
        return [str(r[0]) for r in rows]

    def chunk_sources(self) -> list[tuple[str, str]]:
        """(chunk id, source) of every chunk."""
        return [(str(i), str(s)) for i, s in self.db.execute("SELECT id, source FROM chunks")]

    def known(self, ids: Sequence[str]) -> set[str]:
        """Those of `ids` the ledger holds."""
        found: set[str] = set()
        for i in range(0, len(ids), 500):
            part = list(ids[i : i + 500])
            rows = self.db.execute(
                f"SELECT id FROM chunks WHERE id IN ({','.join('?' * len(part))})", part
            )
            found.update(str(r[0]) for r in rows)
        return found

    def chunks(self, ids: Sequence[str]) -> dict[str, Chunk]:
        out: dict[str, Chunk] = {}
        for i in range(0, len(ids), 500):
            part = list(ids[i : i + 500])
            rows = self.db.execute(
                "SELECT c.id, a.key, c.source, c.idx, c.text, c.start, c.end, c.title, c.date,"
                " c.publisher, c.author, c.page FROM chunks c JOIN articles a USING (source)"
                f" WHERE c.id IN ({','.join('?' * len(part))})",
                part,
            ).fetchall()
            for r in rows:
                out[r[0]] = Chunk(*r)
        return out

    def keyword_search(
        self, query: str, n: int, filters: Filters | None = None
    ) -> list[tuple[str, float]]:
        return keyword.search(self.db, query, n, filters, self.count(), self.doc_freqs)

    def integrity(self) -> list[str]:
        """Problems FTS5 finds between its index and the chunks table."""
        with self._write_lock:
            return keyword.integrity(self._writer)

    # --- writing (inside `transaction()`) ---------------------------------------------

    @staticmethod
    def put(
        db: sqlite3.Connection, rows: Sequence[dict[str, Any]], chunks: Sequence[Chunk]
    ) -> None:
        """Store these articles and their chunks, replacing what their sources held."""
        for row in rows:
            Ledger.remove(db, row["source"])
        db.executemany(
            f"INSERT INTO articles ({', '.join(ARTICLE_COLUMNS)}) VALUES "
            f"({', '.join(':' + c for c in ARTICLE_COLUMNS)})",
            [{c: row.get(c) for c in ARTICLE_COLUMNS} for row in rows],
        )
        db.executemany(
            "INSERT INTO chunks (id, source, idx, start, end, text, title, date, date_int,"
            " publisher, author, page, terms) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [_chunk_row(c) for c in chunks],
        )

    @staticmethod
    def remove(db: sqlite3.Connection, source: str) -> None:
        db.execute("DELETE FROM chunks WHERE source=?", (source,))
        db.execute("DELETE FROM articles WHERE source=?", (source,))

    def touch(self, source: str, size: int, mtime_ns: int, header: str) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE articles SET size=?, mtime_ns=?, header=? WHERE source=?",
                (size, mtime_ns, header, source),
            )

    def clear(self) -> None:
        """Empty the articles and chunks (and the keyword index with them)."""
        with self.transaction() as db:
            db.execute("DELETE FROM chunks")
            db.execute("DELETE FROM articles")
            db.execute("DELETE FROM pending")

    def rebuild_keywords(self) -> None:
        """Rebuild the keyword index from the chunks' text."""
        with self._write_lock:
            keyword.ensure_schema(self._writer, rebuild=True)
        self.changed()

    def close(self) -> None:
        with self._lock:
            for db in self._connections:
                db.close()
            self._connections.clear()


def _chunk_row(c: Chunk) -> tuple[Any, ...]:
    return (
        c.id,
        c.source,
        c.index,
        c.start,
        c.end,
        c.text,
        c.title,
        c.date,
        date_int(c.date),
        c.publisher,
        c.author,
        c.page,
        chunk_terms(c.text),
    )
