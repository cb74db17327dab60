"""Writes on disk: the ledger and Chroma kept in step by a journal of chunk ids.

Chunk ids are written to the ledger's `pending` table before Chroma is touched and cleared
after; `reconcile()` settles whatever a killed process left, so Chroma, the ledger and the
keyword index always end up agreeing (tests/test_crash.py kills ingests to check it).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from qa.index.chroma import Chunks
from qa.index.ledger import Ledger
from qa.types import Chunk

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)


def put_articles(
    ledger: Ledger,
    chunks_store: Chunks,
    items: Sequence[tuple[dict[str, Any], Sequence[Chunk], np.ndarray]],
) -> None:
    """Store articles (ledger row, chunks, vectors), replacing what their sources held."""
    import numpy as np

    sources = [row["source"] for row, _, _ in items]
    old = {i for source in sources for i in ledger.chunk_ids(source)}
    chunks = [c for _, part, _ in items for c in part]
    new_ids = [c.id for c in chunks]
    with ledger.transaction() as db:
        journal(db, new_ids)
    if chunks:
        chunks_store.upsert(chunks, np.concatenate([v for _, part, v in items if len(part)]))
    with ledger.transaction() as db:
        Ledger.put(db, [row for row, _, _ in items], chunks)
        journal(db, old)
    stale = sorted(old - set(new_ids))
    if stale:
        chunks_store.delete(stale)
    settle(ledger, [*new_ids, *old])


def remove_article(ledger: Ledger, chunks_store: Chunks, source: str) -> int:
    """Drop an article from the ledger, the keyword index and Chroma; chunks removed."""
    ids = ledger.chunk_ids(source)
    with ledger.transaction() as db:
        journal(db, ids)
        Ledger.remove(db, source)
    if ids:
        chunks_store.delete(ids)
    settle(ledger, ids)
    return len(ids)


def reconcile(ledger: Ledger, chunks_store: Chunks) -> list[str]:
    """Settle chunk ids a killed ingest left half-written; returns sources to re-ingest.

    A pending id the ledger holds must be in Chroma (if not, its article is dropped from the
    ledger so the next ingest embeds it again); one the ledger does not hold must not be.
    """
    pending = pending_ids(ledger)
    known = set(ledger.chunks(pending))
    orphans = [i for i in pending if i not in known]
    if orphans:
        chunks_store.delete(orphans)
    redo: set[str] = set()
    if known:
        present = chunks_store.present(sorted(known))
        for cid, chunk in ledger.chunks(sorted(known - present)).items():
            log.warning("chunk %s is missing from Chroma; re-ingesting %s", cid, chunk.source)
            redo.add(chunk.source)
    with ledger.transaction() as db:
        for source in sorted(redo):
            Ledger.remove(db, source)
    settle(ledger, pending)
    log.info("reconciled %d pending chunk ids (%d orphans)", len(pending), len(orphans))
    return sorted(redo)


def pending_ids(ledger: Ledger) -> list[str]:
    """Chunk ids written to the journal and not settled (a killed ingest's)."""
    return [str(r[0]) for r in ledger.db.execute("SELECT id FROM pending")]


def journal(db: sqlite3.Connection, ids: Iterable[str]) -> None:
    db.executemany("INSERT OR IGNORE INTO pending VALUES (?)", [(i,) for i in ids])


def settle(ledger: Ledger, ids: Sequence[str]) -> None:
    for i in range(0, len(ids), 500):
        part = list(ids[i : i + 500])
        with ledger.transaction() as db:
            db.execute(f"DELETE FROM pending WHERE id IN ({','.join('?' * len(part))})", part)
