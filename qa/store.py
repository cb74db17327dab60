"""The index: vectors in Chroma (on disk or a server), a SQLite ledger beside them.

The ledger holds what was ingested (articles with their content hashes, chunks with their
text and metadata) and the keyword index (SQLite FTS5, BM25-ranked), updated in the same
transactions, so the keyword index never disagrees with the ledger and never needs a rebuild.
Chroma is kept in step by a journal: chunk ids are written to `pending` before Chroma is
touched and cleared after, and `reconcile()` settles whatever a killed process left.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from qa.config import Settings
from qa.text import adjacent_catenations, search_terms
from qa.text import terms as text_terms
from qa.types import Chunk, Filters

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS articles (
    source TEXT PRIMARY KEY, path TEXT NOT NULL, key TEXT NOT NULL, text_hash TEXT NOT NULL,
    title TEXT, date TEXT, publisher TEXT, author TEXT, url TEXT,
    size INTEGER, mtime_ns INTEGER, chunks INTEGER NOT NULL, header TEXT);
CREATE INDEX IF NOT EXISTS articles_path ON articles(path);
CREATE INDEX IF NOT EXISTS articles_text_hash ON articles(text_hash);
CREATE TABLE IF NOT EXISTS chunks (
    rowid INTEGER PRIMARY KEY, id TEXT UNIQUE NOT NULL, source TEXT NOT NULL,
    idx INTEGER NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL, text TEXT NOT NULL,
    title TEXT, date TEXT, date_int INTEGER, publisher TEXT, author TEXT, page INTEGER,
    terms TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS chunks_source ON chunks(source);
CREATE TABLE IF NOT EXISTS pending (id TEXT PRIMARY KEY);
"""

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


class StoreError(RuntimeError):
    """The index cannot be opened or used as asked; the message says why and what to do."""


@dataclass(frozen=True)
class ArticleInfo:
    """An indexed article, as listed by `qa list` and the UI's library."""

    source: str
    title: str
    date: str | None
    publisher: str | None
    chunks: int
    path: str


@dataclass(frozen=True)
class Stored:
    """What the ledger knows of a source: enough to skip it when nothing changed."""

    key: str
    text_hash: str
    size: int
    mtime_ns: int


def date_int(date: str | None) -> int | None:
    """'2020-04-01' -> 20200401, for range filters (Chroma compares numbers only)."""
    if not date or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", date):
        return None
    return int(date.replace("-", ""))


class Index:
    """Chroma plus the SQLite ledger for one collection.

    Example:
        >>> index = Index(Settings(store_dir=Path("/tmp/qa-doc")))
        >>> index.count()
        0
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        settings.store_dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(self._ledger_path(), check_same_thread=False, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)
        self._keyword_schema()
        self._check_embedder()
        self._collection: Any = None
        # count() and doc_freqs() are read on every question and cost ms at 100,000 chunks;
        # cached until the ledger changes (here, or in another process: PRAGMA data_version).
        self._version: int | None = None
        self._count: int | None = None
        self._df: dict[str, int] = {}

    def _ledger_path(self) -> Path:
        name = self.settings.collection
        if self.settings.chroma_url:
            u = urlparse(self.settings.chroma_url)
            name = f"{u.hostname}_{u.port or 8000}-{name}"
        return self.settings.store_dir / f"ledger-{name}.sqlite"

    def _meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def _keyword_schema(self) -> None:
        """Create the keyword index, or rebuild one written by an older version from the chunks."""
        if self._meta("keyword_version") == KEYWORD_VERSION:
            return
        columns = {r[1] for r in self._db.execute("PRAGMA table_info(chunks)")}
        article_columns = {r[1] for r in self._db.execute("PRAGMA table_info(articles)")}
        with self._db:
            if "header" not in article_columns:
                # Older ledgers did not keep headers: have the next ingest read every file
                # again (an unchanged article is not re-embedded; `touch` stores its header).
                self._db.execute("ALTER TABLE articles ADD COLUMN header TEXT")
                self._db.execute("UPDATE articles SET size=-1")
            if "terms" not in columns:
                self._db.execute("ALTER TABLE chunks ADD COLUMN terms TEXT NOT NULL DEFAULT ''")
            for trigger in ("chunks_ai", "chunks_ad"):
                self._db.execute(f"DROP TRIGGER IF EXISTS {trigger}")
            self._db.execute("DROP TABLE IF EXISTS chunks_vocab")
            self._db.execute("DROP TABLE IF EXISTS chunks_fts")
            rows = self._db.execute("SELECT rowid, text FROM chunks").fetchall()
            if rows:
                log.info("rebuilding the keyword index of %d chunks", len(rows))
            self._db.executemany(
                "UPDATE chunks SET terms=? WHERE rowid=?",
                [(" ".join(text_terms(t)), r) for r, t in rows],
            )
            self._db.executescript(KEYWORD_SCHEMA)
            self._db.execute("INSERT INTO chunks_fts(chunks_fts) VALUES ('rebuild')")
            self._db.execute(
                "INSERT OR REPLACE INTO meta VALUES ('keyword_version', ?)", (KEYWORD_VERSION,)
            )

    def _check_embedder(self) -> None:
        stored = self._meta("embedder")
        if stored is None:
            with self._db:
                self._db.execute(
                    "INSERT INTO meta VALUES ('embedder', ?)", (self.settings.embedder,)
                )
        elif stored != self.settings.embedder:
            raise StoreError(
                f"collection {self.settings.collection!r} in {self.where} holds vectors of "
                f"{stored}, not {self.settings.embedder}; mixing them would give wrong answers. "
                f"Use --collection NAME for a separate index, or --embedder {stored}."
            )

    @property
    def where(self) -> str:
        return self.settings.chroma_url or str(self.settings.store_dir)

    # --- Chroma -----------------------------------------------------------------------

    @property
    def collection(self) -> Any:
        if self._collection is None:
            self._collection = self._open_collection()
        return self._collection

    def _open_collection(self) -> Any:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        chroma_settings = ChromaSettings(anonymized_telemetry=False)
        s = self.settings
        if s.chroma_url:
            u = urlparse(s.chroma_url)
            try:
                client: Any = chromadb.HttpClient(
                    host=u.hostname or "127.0.0.1",
                    port=u.port or 8000,
                    ssl=u.scheme == "https",
                    settings=chroma_settings,
                )
                client.heartbeat()
            except Exception as e:
                raise StoreError(
                    f"Chroma server at {s.chroma_url} is not reachable ({type(e).__name__}: "
                    f"{e}); start one with `chroma run --path DIR --port N` or unset "
                    f"--chroma-url/QA_CHROMA_URL"
                ) from e
        else:
            client = chromadb.PersistentClient(
                path=str(s.store_dir / "chroma"), settings=chroma_settings
            )
        collection = client.get_or_create_collection(
            s.collection,
            configuration={"hnsw": {"space": "cosine"}},
            metadata={"embedder": s.embedder},
        )
        theirs = (collection.metadata or {}).get("embedder")
        if theirs and theirs != s.embedder:
            raise StoreError(
                f"Chroma collection {s.collection!r} at {self.where} holds vectors of {theirs}, "
                f"not {s.embedder}. Use --collection NAME for a separate index."
            )
        self._max_batch = int(client.get_max_batch_size())
        return collection

    def _chroma_add(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        step = max(1, min(self._max_batch_size(), 5000))
        for i in range(0, len(chunks), step):
            part = chunks[i : i + step]
            self.collection.upsert(
                ids=[c.id for c in part],
                embeddings=vectors[i : i + step],
                metadatas=[_chroma_metadata(c) for c in part],
                documents=[c.text for c in part],
            )

    def _max_batch_size(self) -> int:
        _ = self.collection
        return self._max_batch

    def _chroma_delete(self, ids: Sequence[str]) -> None:
        step = max(1, min(self._max_batch_size(), 5000))
        for i in range(0, len(ids), step):
            self.collection.delete(ids=list(ids[i : i + step]))

    # --- reading ----------------------------------------------------------------------

    def count(self) -> int:
        """Chunks in the ledger."""
        with self._lock:
            self._check_fresh()
            if self._count is None:
                self._count = int(self._db.execute("SELECT count(*) FROM chunks").fetchone()[0])
            return self._count

    def _check_fresh(self) -> None:
        version = int(self._db.execute("PRAGMA data_version").fetchone()[0])
        if version != self._version:
            self._version = version
            self._changed()

    def _changed(self) -> None:
        self._count = None
        self._df.clear()

    def articles(self) -> list[ArticleInfo]:
        """Every indexed article, by source."""
        rows = self._db.execute(
            "SELECT source, title, date, publisher, chunks, path FROM articles ORDER BY source"
        ).fetchall()
        return [ArticleInfo(*row) for row in rows]

    def headers(self, sources: Sequence[str]) -> dict[str, str]:
        """The header text (before the body) of each of these articles that has one."""
        wanted = list(dict.fromkeys(sources))
        if not wanted:
            return {}
        rows = self._db.execute(
            f"SELECT source, header FROM articles WHERE source IN ({','.join('?' * len(wanted))})"
            " AND header IS NOT NULL AND header != ''",
            wanted,
        ).fetchall()
        return {str(r[0]): str(r[1]) for r in rows}

    def publishers(self) -> list[str]:
        rows = self._db.execute(
            "SELECT DISTINCT publisher FROM articles WHERE publisher IS NOT NULL ORDER BY 1"
        )
        return [str(r[0]) for r in rows]

    def stored(self, source: str) -> Stored | None:
        row = self._db.execute(
            "SELECT key, text_hash, size, mtime_ns FROM articles WHERE source=?", (source,)
        ).fetchone()
        return None if row is None else Stored(*row)

    def source_with_text(self, text_hash: str) -> str | None:
        row = self._db.execute(
            "SELECT source FROM articles WHERE text_hash=? LIMIT 1", (text_hash,)
        ).fetchone()
        return None if row is None else str(row[0])

    def sources_in(self, folder: Path) -> list[tuple[str, Path]]:
        """(source, file) of the articles whose files lie under `folder` (an absolute path)."""
        prefix = str(folder).rstrip("/") + "/"
        rows = self._db.execute(
            "SELECT source, path FROM articles WHERE substr(path, 1, ?) = ? ORDER BY source",
            (len(prefix), prefix),
        )
        return [(str(r[0]), Path(r[1])) for r in rows]

    def sources_of_path(self, path: Path) -> list[str]:
        rows = self._db.execute("SELECT source FROM articles WHERE path=?", (str(path),))
        return [str(r[0]) for r in rows]

    def chunk_ids(self, source: str | None = None) -> list[str]:
        if source is None:
            rows = self._db.execute("SELECT id FROM chunks ORDER BY id")
        else:
            rows = self._db.execute("SELECT id FROM chunks WHERE source=? ORDER BY idx", (source,))
        return [str(r[0]) for r in rows]

    def chunks(self, ids: Sequence[str]) -> dict[str, Chunk]:
        """The chunks with these ids (those that exist)."""
        out: dict[str, Chunk] = {}
        for i in range(0, len(ids), 500):
            part = list(ids[i : i + 500])
            marks = ",".join("?" * len(part))
            rows = self._db.execute(
                "SELECT c.id, a.key, c.source, c.idx, c.text, c.start, c.end, c.title, c.date,"
                " c.publisher, c.author, c.page FROM chunks c JOIN articles a USING (source)"
                f" WHERE c.id IN ({marks})",
                part,
            ).fetchall()
            for r in rows:
                out[r[0]] = Chunk(*r)
        return out

    def keyword_search(
        self, query: str, n: int, filters: Filters | None = None
    ) -> list[tuple[str, float]]:
        """BM25 over the chunks' text: (chunk id, score), best first.

        Only chunks holding at least one selective query term are ranked (see
        `SELECTIVE_SHARE`); every query term still counts in their scores.
        """
        terms = search_terms(query)
        if not terms:
            return []
        # "cease fire" in the question finds "ceasefire" in the text (the index holds it).
        joined = [t for t in adjacent_catenations(query) if t not in terms]
        if joined:
            terms += list(self.doc_freqs(joined))
        match = _fts_any(terms)
        with self._lock:
            selective = self._selective(terms) if self.count() >= SELECTIVE_FROM else []
            if selective and len(selective) < len(terms):
                match = f"({_fts_any(selective)}) AND ({match})"
            where, params = _sql_filters(filters)
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
            rows = self._db.execute(sql, [match, *params, n]).fetchall()
        return [(str(r[0]), -float(r[1])) for r in rows]

    def _selective(self, terms: Sequence[str]) -> list[str]:
        """The terms found in at least one chunk and at most SELECTIVE_SHARE of them."""
        df = self.doc_freqs(terms)
        limit = SELECTIVE_SHARE * self.count()
        return [t for t in terms if 0 < df.get(t, 0) <= limit]

    def doc_freqs(self, stems: Sequence[str]) -> dict[str, int]:
        """How many chunks hold each term (a `qa.text` stem); terms in none are left out."""
        with self._lock:
            self._check_fresh()
            missing = list(dict.fromkeys(t for t in stems if t not in self._df))
            if missing:
                marks = ",".join("?" * len(missing))
                rows = self._db.execute(
                    f"SELECT term, doc FROM chunks_vocab WHERE term IN ({marks})", missing
                ).fetchall()
                if len(self._df) > 200_000:
                    self._df.clear()
                self._df.update({t: 0 for t in missing})
                self._df.update({str(t): int(d) for t, d in rows})
            return {t: self._df[t] for t in stems if self._df.get(t)}

    def dense_search(
        self, vector: np.ndarray, n: int, filters: Filters | None = None
    ) -> list[tuple[str, float]]:
        """Nearest chunks by cosine: (chunk id, similarity), best first."""
        if self.count() == 0:
            return []
        result = self.collection.query(
            query_embeddings=[vector],
            n_results=n,
            where=_chroma_where(filters),
            include=["distances"],
        )
        ids = result["ids"][0]
        distances = result["distances"][0]
        return [(str(i), 1.0 - float(d)) for i, d in zip(ids, distances, strict=True)]

    # --- writing ----------------------------------------------------------------------

    def put_article(
        self, row: dict[str, Any], chunks: Sequence[Chunk], vectors: np.ndarray
    ) -> None:
        """Store an article's chunks, replacing what its source held before."""
        self.put_articles([(row, chunks, vectors)])

    def put_articles(
        self, items: Sequence[tuple[dict[str, Any], Sequence[Chunk], np.ndarray]]
    ) -> None:
        """Store several articles (ledger row, chunks, vectors) with one Chroma write.

        Each Chroma write has a large fixed cost (~130 ms measured on 2 busy cores, whatever
        its size), so ingest hands over a whole embedding batch rather than one article.
        """
        import numpy as np

        with self._lock:
            sources = [row["source"] for row, _, _ in items]
            old = {i for source in sources for i in self.chunk_ids(source)}
            chunks = [c for _, part, _ in items for c in part]
            new_ids = [c.id for c in chunks]
            self._journal(new_ids)
            if chunks:
                vectors = np.concatenate([v for _, part, v in items if len(part)])
                self._chroma_add(chunks, vectors)
            with self._db:
                for row, _, _ in items:
                    self._db.execute("DELETE FROM chunks WHERE source=?", (row["source"],))
                    self._db.execute("DELETE FROM articles WHERE source=?", (row["source"],))
                self._db.executemany(
                    "INSERT INTO articles (source, path, key, text_hash, title, date, publisher,"
                    " author, url, size, mtime_ns, chunks, header) VALUES (:source, :path, :key,"
                    " :text_hash, :title, :date, :publisher, :author, :url, :size, :mtime_ns,"
                    " :chunks, :header)",
                    [row for row, _, _ in items],
                )
                self._db.executemany(
                    "INSERT INTO chunks (id, source, idx, start, end, text, title, date,"
                    " date_int, publisher, author, page, terms)"
                    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    [_chunk_row(c) for c in chunks],
                )
                self._db.executemany(
                    "INSERT OR IGNORE INTO pending VALUES (?)", [(i,) for i in old]
                )
            stale = sorted(old - set(new_ids))
            if stale:
                self._chroma_delete(stale)
            self._settle([*new_ids, *old])
            self._changed()

    def remove_article(self, source: str) -> int:
        """Drop an article from the ledger, the keyword index and Chroma; chunks removed."""
        with self._lock:
            ids = self.chunk_ids(source)
            with self._db:
                self._db.executemany(
                    "INSERT OR IGNORE INTO pending VALUES (?)", [(i,) for i in ids]
                )
                self._db.execute("DELETE FROM chunks WHERE source=?", (source,))
                self._db.execute("DELETE FROM articles WHERE source=?", (source,))
            if ids:
                self._chroma_delete(ids)
            self._settle(ids)
            self._changed()
            return len(ids)

    def touch(self, source: str, size: int, mtime_ns: int, header: str) -> None:
        """Record a new size/mtime (and the header) of an article whose content did not change."""
        with self._db:
            self._db.execute(
                "UPDATE articles SET size=?, mtime_ns=?, header=? WHERE source=?",
                (size, mtime_ns, header, source),
            )

    def _journal(self, ids: Iterable[str]) -> None:
        with self._db:
            self._db.executemany("INSERT OR IGNORE INTO pending VALUES (?)", [(i,) for i in ids])

    def _settle(self, ids: Sequence[str]) -> None:
        for i in range(0, len(ids), 500):
            part = list(ids[i : i + 500])
            with self._db:
                self._db.execute(
                    f"DELETE FROM pending WHERE id IN ({','.join('?' * len(part))})", part
                )

    def reconcile(self) -> list[str]:
        """Settle chunk ids a killed ingest left half-written; returns sources to re-ingest.

        A pending id the ledger holds must be in Chroma (if not, its article is dropped from
        the ledger so the next ingest embeds it again); one the ledger does not hold must not be.
        """
        pending = [str(r[0]) for r in self._db.execute("SELECT id FROM pending")]
        if not pending:
            return []
        with self._lock:
            known = set(self.chunks(pending))
            orphans = [i for i in pending if i not in known]
            if orphans:
                self._chroma_delete(orphans)
            redo: set[str] = set()
            if known:
                present = set(self.collection.get(ids=sorted(known), include=[])["ids"])
                for cid, chunk in self.chunks(sorted(known - present)).items():
                    log.warning(
                        "chunk %s is missing from Chroma; re-ingesting %s", cid, chunk.source
                    )
                    redo.add(chunk.source)
            for source in sorted(redo):
                with self._db:
                    self._db.execute("DELETE FROM chunks WHERE source=?", (source,))
                    self._db.execute("DELETE FROM articles WHERE source=?", (source,))
            self._settle(pending)
            self._changed()
            log.info("reconciled %d pending chunk ids (%d orphans)", len(pending), len(orphans))
            return sorted(redo)

    def verify(self) -> dict[str, list[str]]:
        """Compare the ids in Chroma, the ledger and the keyword index (tests, `qa doctor`)."""
        ledger = set(self.chunk_ids())
        try:
            # FTS5 compares its index with the chunks table and raises if they differ.
            self._db.execute("INSERT INTO chunks_fts(chunks_fts) VALUES ('integrity-check')")
            keyword_problems: list[str] = []
        except sqlite3.DatabaseError as e:
            keyword_problems = [str(e)]
        chroma: set[str] = set()
        offset = 0
        while True:
            got = self.collection.get(include=[], limit=5000, offset=offset)["ids"]
            chroma.update(got)
            if len(got) < 5000:
                break
            offset += 5000
        return {
            "missing_in_chroma": sorted(ledger - chroma),
            "orphans_in_chroma": sorted(chroma - ledger),
            "keyword_index": keyword_problems,
        }

    def close(self) -> None:
        self._db.close()


def _fts_any(terms: Sequence[str]) -> str:
    """An FTS5 query matching any of `terms`, each quoted so it is taken as a word."""
    return " OR ".join('"' + t.replace('"', "") + '"' for t in terms)


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
        " ".join(text_terms(c.text)),
    )


def _chroma_metadata(c: Chunk) -> dict[str, str | int]:
    meta: dict[str, str | int] = {
        "source": c.source,
        "index": c.index,
        "start": c.start,
        "end": c.end,
        "title": c.title,
    }
    for key, value in (
        ("date", c.date),
        ("publisher", c.publisher),
        ("author", c.author),
        ("page", c.page),
        ("date_int", date_int(c.date)),
    ):
        if value is not None:
            meta[key] = value
    return meta


def _chroma_where(filters: Filters | None) -> dict[str, Any] | None:
    if filters is None or filters.is_empty():
        return None
    clauses: list[dict[str, Any]] = []
    if filters.publishers:
        clauses.append({"publisher": {"$in": list(filters.publishers)}})
    if filters.date_from:
        clauses.append({"date_int": {"$gte": date_int(filters.date_from)}})
    if filters.date_to:
        clauses.append({"date_int": {"$lte": date_int(filters.date_to)}})
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def _sql_filters(filters: Filters | None) -> tuple[str, list[Any]]:
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


_indexes: dict[tuple[str, str | None, str, str], Index] = {}
_indexes_lock = threading.Lock()


def open_index(settings: Settings) -> Index:
    """The Index for these settings, opened once per process (the UI and API share it)."""
    key = (str(settings.store_dir), settings.chroma_url, settings.collection, settings.embedder)
    with _indexes_lock:
        if key not in _indexes:
            _indexes[key] = Index(settings)
        return _indexes[key]
