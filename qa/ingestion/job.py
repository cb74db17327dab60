"""Incremental ingest: files -> articles -> chunks -> vectors -> the index.

An article whose size and mtime are unchanged is not even read; one whose content hash is
unchanged is not embedded; a changed one is replaced; an article whose file left an ingested
folder leaves the index. One ingest runs at a time per store (a lock file), and against a
Chroma server one at a time across machines (the server's lease, `qa.index.manifest`); a second one
is refused with a message naming the holder.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from stat import S_ISDIR
from typing import Any

from qa import crash_points
from qa.config import Settings
from qa.errors import IngestBusy
from qa.index.store import Index, open_index
from qa.ingestion import chunking
from qa.ingestion.loaders import LoadError, display_source, find_files, load_file
from qa.models.embedders import Embedder
from qa.models.registry import embedder_for
from qa.types import Article, Chunk, IngestReport, Problem, Progress

log = logging.getLogger(__name__)


EMBED_BATCH = 256


@dataclass
class _Work:
    row: dict[str, Any]
    chunks: list[Chunk]
    replacing: bool


def ingest(
    paths: Sequence[Path | str],
    settings: Settings,
    progress: Progress | None = None,
    *,
    max_file_bytes: int = 20_000_000,
) -> IngestReport:
    """Bring the index in step with `paths` (files and folders).

    Raises:
        IngestBusy: another ingest is running on the same store (or the same server).
        StoreError: the index cannot be opened or written (the message says why).
    """
    from filelock import FileLock, Timeout

    started = time.perf_counter()
    settings.store_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(settings.store_dir / "ingest.lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout as e:
        raise IngestBusy(
            f"another ingest is running on {settings.store_dir}; wait for it to finish"
            " and run this one again"
        ) from e
    try:
        report = _ingest_locked([Path(p) for p in paths], settings, progress, max_file_bytes)
    finally:
        lock.release()
    report.seconds = time.perf_counter() - started
    log.info("ingest: %s", report.summary())
    return report


def _ingest_locked(
    paths: list[Path], settings: Settings, progress: Progress | None, max_file_bytes: int
) -> IngestReport:
    index = open_index(settings)
    with index.writing():  # on a server: under its lease, visible to readers when whole
        return _ingest_into(index, paths, settings, progress, max_file_bytes)


def _ingest_into(
    index: Index,
    paths: list[Path],
    settings: Settings,
    progress: Progress | None,
    max_file_bytes: int,
) -> IngestReport:
    report = IngestReport()
    files, problems = find_files(paths)
    report.failed.extend(problems)
    found = {f.resolve() for f in files}
    for folder in (p for p in paths if p.is_dir()):
        for source, file in index.sources_in(folder.resolve()):
            if file not in found and _gone(file):
                report.chunks_removed += index.remove_article(source)
                report.removed.append(source)

    embedder: Embedder | None = None
    work: list[_Work] = []
    claimed: dict[str, str] = {}  # text hash -> source, for duplicates within this run
    for path in files:
        stat = path.stat()
        source = display_source(path)
        stored = index.sources_of_path(path.resolve())
        if stored and all(_same_file(index, s, stat) for s in stored):
            report.unchanged.extend(stored)
            continue
        crash_points.reached("read")
        try:
            articles, record_problems = load_file(path, source=source, max_bytes=max_file_bytes)
        except LoadError as e:
            report.failed.append(Problem(e.source, e.reason))
            continue
        except OSError as e:
            report.failed.append(Problem(source, f"cannot read: {e.strerror or e}"))
            continue
        report.failed.extend(record_problems)
        current = {a.source for a in articles}
        for gone in sorted(set(stored) - current):
            report.chunks_removed += index.remove_article(gone)
            report.removed.append(gone)
        if embedder is None:
            embedder = embedder_for(settings)
        for article in articles:
            item = _plan(article, path, stat, index, embedder, settings, report, claimed)
            if item is not None:
                work.append(item)

    total = sum(len(w.chunks) for w in work)
    if progress:
        progress(0, total, f"embedding {total} chunks of {len(work)} articles")
    done = 0
    for batch in _batches(work):
        assert embedder is not None
        chunks = [c for w in batch for c in w.chunks]
        crash_points.reached("embed")
        vectors = _embed(embedder, [c.text for c in chunks])
        # One Chroma write per batch: each write costs ~100 ms whatever its size.
        items, offset = [], 0
        for w in batch:
            items.append((w.row, w.chunks, vectors[offset : offset + len(w.chunks)]))
            offset += len(w.chunks)
        index.put_articles(items)
        for w in batch:
            (report.replaced if w.replacing else report.added).append(w.row["source"])
        done += len(chunks)
        report.chunks_embedded += len(chunks)
        if progress:
            progress(done, total, batch[-1].row["source"])
    return report


def _gone(file: Path) -> bool:
    """Whether an indexed file left its folder (or became a folder, whose files are walked).

    A file that is still there but could not be read this time (permissions, a symlink loop,
    a FIFO) is reported as failed and keeps its article: nothing is lost to a bad moment.
    """
    try:
        return S_ISDIR(file.stat().st_mode)
    except (FileNotFoundError, NotADirectoryError):
        return True
    except OSError:
        return False


def _same_file(index: Index, source: str, stat: os.stat_result) -> bool:
    s = index.stored(source)
    return s is not None and s.size == stat.st_size and s.mtime_ns == stat.st_mtime_ns


def _plan(
    article: Article,
    path: Path,
    stat: os.stat_result,
    index: Index,
    embedder: Embedder,
    settings: Settings,
    report: IngestReport,
    claimed: dict[str, str],
) -> _Work | None:
    """What to do with one loaded article: nothing, or embed these chunks."""
    sig = chunking.signature(embedder.name, settings.chunk_tokens, settings.chunk_overlap_tokens)
    key = chunking.article_key(article, sig)
    stored = index.stored(article.source)
    if stored is not None and stored.key == key:
        index.touch(article.source, stat.st_size, stat.st_mtime_ns, _header(article))
        report.unchanged.append(article.source)
        return None
    text_hash = hashlib.sha256(article.text.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    twin = claimed.get(text_hash) or index.source_with_text(text_hash)
    if twin is not None and twin != article.source:
        report.duplicates.append(
            Problem(article.source, f"same text as {twin}, which is indexed; skipped")
        )
        if stored is not None:  # what it held before is no longer in the file
            report.chunks_removed += index.remove_article(article.source)
            report.removed.append(article.source)
        return None
    claimed[text_hash] = article.source
    if index.adopt(article.source, key):  # a crashed ingest wrote it whole: not again
        (report.replaced if stored is not None else report.added).append(article.source)
        return None
    chunks = chunking.chunk_article(
        article,
        embedder.token_spans,
        signature=sig,
        chunk_tokens=settings.chunk_tokens,
        overlap_tokens=settings.chunk_overlap_tokens,
        max_tokens=embedder.max_tokens,
    )
    row = {
        "source": article.source,
        "path": str(path.resolve()),
        "key": key,
        "text_hash": text_hash,
        "title": article.title,
        "date": article.date,
        "publisher": article.publisher,
        "author": article.author,
        "url": article.url,
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "chunks": len(chunks),
        "header": _header(article),
    }
    return _Work(row, chunks, replacing=stored is not None)


def _header(article: Article) -> str:
    """The text before the body (a byline, a date line, front matter), kept for citations."""
    return article.text[: article.body_start]


def _batches(work: list[_Work]) -> list[list[_Work]]:
    batches: list[list[_Work]] = []
    current: list[_Work] = []
    size = 0
    for w in work:
        current.append(w)
        size += len(w.chunks)
        if size >= EMBED_BATCH:
            batches.append(current)
            current, size = [], 0
    if current:
        batches.append(current)
    return batches


def _embed(embedder: Embedder, texts: list[str]) -> Any:
    """Embed in length-sorted order (less padding per batch), returned in input order."""
    import numpy as np

    if not texts:
        return np.zeros((0, embedder.dim), dtype="float32")
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    vectors = embedder.embed([texts[i] for i in order])
    out = np.empty_like(vectors)
    out[order] = vectors
    return out
