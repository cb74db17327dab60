"""The write side of `qa.index.store.Index`: an ingest's writes, on disk through the journal
(`qa.index.disk`), against a server through a lease and a version published whole
(`qa.index.publish`)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from qa.config import Settings
from qa.errors import StoreError
from qa.index.ledger import Ledger
from qa.types import Chunk

if TYPE_CHECKING:
    import numpy as np

    from qa.index import chroma
    from qa.index.publish import Publisher
    from qa.index.sync import Cache


class Writes:
    """Mixed into `Index`: what an ingest calls to change the index."""

    settings: Settings
    ledger: Ledger
    _cache: Cache | None
    _session: Publisher | None

    if TYPE_CHECKING:

        @property
        def chunk_store(self) -> chroma.Chunks: ...

        @property
        def where(self) -> str: ...

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Around an ingest's writes: on disk, settle what a killed one left; on a server,
        hold the lease and make the writes visible together when the block ends."""
        if self._cache is None:
            self.reconcile()
            yield
            return
        session = self._cache.publisher()
        try:
            session.begin()
            self._session = session
            yield
            session.commit()
        except BaseException:
            session.close()
            raise
        finally:
            self._session = None

    def _writer(self) -> Publisher:
        if self._session is None:
            raise StoreError(
                f"writes to the Chroma server {self.where} go through `with index.writing():`"
            )
        return self._session

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
        if self.settings.chroma_url:
            self._writer().put(items)
            return
        from qa.index import disk

        disk.put_articles(self.ledger, self.chunk_store, items)

    def remove_article(self, source: str) -> int:
        """Drop an article from the ledger, the keyword index and Chroma; chunks removed."""
        if self.settings.chroma_url:
            return self._writer().remove(source)
        from qa.index import disk

        return disk.remove_article(self.ledger, self.chunk_store, source)

    def adopt(self, source: str, key: str) -> bool:
        """Whether a crashed ingest's complete write of `source` at `key` was taken over."""
        return self._session is not None and self._session.adopt(source, key)

    def touch(self, source: str, size: int, mtime_ns: int, header: str) -> None:
        """Record a new size/mtime (and the header) of an article whose content did not change."""
        if self._session is not None:
            self._session.touch(source, size, mtime_ns, header)
        else:
            self.ledger.touch(source, size, mtime_ns, header)

    def reconcile(self) -> list[str]:
        """Settle chunk ids a killed ingest left half-written; returns sources to re-ingest.

        On disk only: against a server, an ingest's writes are settled by the next one.
        """
        from qa.index import disk

        if self._cache is not None or not disk.pending_ids(self.ledger):
            return []
        return disk.reconcile(self.ledger, self.chunk_store)
