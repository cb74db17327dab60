"""The ledger's tables, and the records read from them (`qa.index.ledger` keeps the file)."""

from __future__ import annotations

from dataclasses import dataclass

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS articles (
    source TEXT PRIMARY KEY, path TEXT NOT NULL, key TEXT NOT NULL, text_hash TEXT NOT NULL,
    title TEXT, date TEXT, publisher TEXT, author TEXT, url TEXT,
    size INTEGER, mtime_ns INTEGER, chunks INTEGER NOT NULL, header TEXT, version INTEGER);
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
ARTICLE_COLUMNS = (
    *("source", "path", "key", "text_hash", "title", "date", "publisher", "author", "url"),
    *("size", "mtime_ns", "chunks", "header", "version"),
)
"""An article row's fields; `version` is the server's index version it came from (or None)."""


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
