"""The index: chunk vectors in Chroma (on disk or a server), a SQLite ledger beside them.

- `qa.index.chroma`: the client (a token for a server behind a proxy), the chunk collection.
- `qa.index.ledger` and `qa.index.keyword`: articles, chunk text and the FTS5 keyword index.
- On disk, the ledger is the record of what was ingested. Chroma is kept in step by a journal:
  chunk ids are written to `pending` before Chroma is touched and cleared after, and
  `reconcile()` settles whatever a killed process left.
- Against a server (`Settings.chroma_url`), the server holds everything: chunks, and the
  article manifest with the index version (`qa.index.manifest`). The ledger is this machine's cache
  of it, built on first open and kept in step every few seconds by a thread (`qa.index.sync`); an
  ingest writes through `qa.index.publish` under the server's lease and becomes visible whole.

Questions read only the ledger and Chroma's nearest-neighbour search, whatever the mode.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from qa.config import Settings
from qa.errors import StoreError
from qa.index import chroma
from qa.index.ledger import ArticleInfo, Ledger, Stored
from qa.index.writes import Writes
from qa.types import Chunk, Filters

if TYPE_CHECKING:
    import numpy as np

    from qa.index.manifest import Manifest
    from qa.index.publish import Publisher
    from qa.index.sync import Cache
    from qa.types import Progress


class Index(Writes):
    """Chroma plus the ledger for one collection (its writes: `qa.index.writes`).

    Example:
        >>> index = Index(Settings(store_dir=Path("/tmp/qa-doc")))
        >>> index.count()
        0
    """

    def __init__(self, settings: Settings, progress: Progress | None = None) -> None:
        self.settings = settings
        settings.store_dir.mkdir(parents=True, exist_ok=True)
        self.ledger = Ledger(self._ledger_path())
        self._check_embedder()
        self._client: Any = None
        self._chunks: chroma.Chunks | None = None
        # chromadb's client creation is not thread-safe: two threads connecting at once (a
        # question and the UI's warm-up) broke the store for the process.
        self._connect_lock = threading.Lock()
        self._session: Publisher | None = None
        self._cache: Cache | None = None
        if settings.chroma_url:
            from qa.index.sync import Cache

            chunks = self.chunk_store  # connects
            self._cache = Cache(self.ledger, self._client, chunks, settings, progress)

    def _ledger_path(self) -> Path:
        name = self.settings.collection
        if self.settings.chroma_url:
            u = urlparse(self.settings.chroma_url)
            name = f"{u.hostname}_{u.port or 8000}-{name}"
            if self.settings.chroma_database != "default_database":
                name = f"{self.settings.chroma_tenant}.{self.settings.chroma_database}-{name}"
        return self.settings.store_dir / f"ledger-{name}.sqlite"

    def _check_embedder(self) -> None:
        stored = self.ledger.meta("embedder")
        if stored is None:
            with self.ledger.transaction() as db:
                self.ledger.set_meta(db, "embedder", self.settings.embedder)
        elif stored != self.settings.embedder:
            raise StoreError(
                f"collection {self.settings.collection!r} in {self.where} holds vectors of "
                f"{stored}, not {self.settings.embedder}; mixing them would give wrong answers. "
                f"Use --collection NAME for a separate index, or --embedder {stored}."
            )

    @property
    def where(self) -> str:
        return self.settings.chroma_url or str(self.settings.store_dir)

    # --- Chroma and the server --------------------------------------------------------

    @property
    def chunk_store(self) -> chroma.Chunks:
        with self._connect_lock:
            if self._chunks is None:
                if self._client is None:
                    self._client = chroma.connect(self.settings)
                collection = chroma.open_chunks(self._client, self.settings)
                self._chunks = chroma.Chunks(collection, int(self._client.get_max_batch_size()))
            return self._chunks

    @property
    def collection(self) -> Any:
        """The Chroma collection of chunk vectors."""
        return self.chunk_store.collection

    @property
    def cache(self) -> Cache:
        """This machine's cache of the server (server mode only)."""
        if self._cache is None:
            raise StoreError(f"{self.where} is an index on disk, not a Chroma server's cache")
        return self._cache

    @property
    def manifest(self) -> Manifest:
        """The article manifest on the server (server mode only)."""
        return self.cache.manifest

    def sync(self, progress: Progress | None = None) -> int:
        """Bring the cache to the server's version (built if need be); returns the version."""
        return self.cache.sync(progress)

    def rebuild(self, progress: Progress | None = None) -> None:
        """Build the cache again from the server (on disk: the keyword index, from the chunks)."""
        if self._cache is None:
            self.ledger.rebuild_keywords()
        else:
            self._cache.rebuild(progress)

    # --- reading ----------------------------------------------------------------------

    def count(self) -> int:
        """Chunks in the ledger."""
        return self.ledger.count()

    def articles(self) -> list[ArticleInfo]:
        """Every indexed article, by source."""
        return self.ledger.articles()

    def headers(self, sources: Sequence[str]) -> dict[str, str]:
        """The header text (before the body) of each of these articles that has one."""
        return self.ledger.headers(sources)

    def publishers(self) -> list[str]:
        return self.ledger.publishers()

    @property
    def _view(self) -> Ledger | Publisher:
        """What an ingest reads: against a server, its own writes over the cache."""
        return self._session or self.ledger

    def stored(self, source: str) -> Stored | None:
        return self._view.stored(source)

    def source_with_text(self, text_hash: str) -> str | None:
        found = self._view.sources_with_text(text_hash)
        return found[0] if found else None

    def sources_in(self, folder: Path) -> list[tuple[str, Path]]:
        """(source, file) of the articles whose files lie under `folder` (an absolute path)."""
        return self._view.sources_in(folder)

    def sources_of_path(self, path: Path) -> list[str]:
        return self._view.sources_of_path(path)

    def chunk_ids(self, source: str | None = None) -> list[str]:
        return self.ledger.chunk_ids() if source is None else self._view.chunk_ids(source)

    def chunks(self, ids: Sequence[str]) -> dict[str, Chunk]:
        """The chunks with these ids (those that exist)."""
        return self.ledger.chunks(ids)

    def keyword_search(
        self, query: str, n: int, filters: Filters | None = None
    ) -> list[tuple[str, float]]:
        """BM25 over the chunks' text: (chunk id, score), best first.

        In a large index only chunks holding at least one selective query term are ranked
        (see `qa.index.keyword.SELECTIVE_SHARE`); every query term still counts in their scores.
        """
        return self.ledger.keyword_search(query, n, filters)

    def doc_freqs(self, stems: Sequence[str]) -> dict[str, int]:
        """How many chunks hold each term (a `qa.text` stem); terms in none are left out."""
        return self.ledger.doc_freqs(stems)

    def dense_search(
        self, vector: np.ndarray, n: int, filters: Filters | None = None
    ) -> list[tuple[str, float]]:
        """Nearest chunks by cosine: (chunk id, similarity), best first.

        Only chunks the ledger holds: on a server, an ingest's chunks before it commits (or
        after this cache last synced) are not part of the index this front end answers from.
        """
        if self.count() == 0:
            return []
        found = self.chunk_store.query(vector, n, filters)
        known = self.ledger.known([cid for cid, _ in found])
        return [(cid, s) for cid, s in found if cid in known]

    def verify(self) -> dict[str, list[str]]:
        """Compare the ids in Chroma, the ledger and the keyword index (tests, `qa doctor`).

        Against a server also the cache with the manifest at the cache's version
        (`cache_vs_server`); chunks of an ingest still writing count as orphans meanwhile.
        """
        ledger = set(self.ledger.chunk_ids())
        in_chroma = self.chunk_store.all_ids()
        found = {
            "missing_in_chroma": sorted(ledger - in_chroma),
            "orphans_in_chroma": sorted(in_chroma - ledger),
            "keyword_index": self.ledger.integrity(),
        }
        if self._cache is not None:
            from qa.index.sync import named_chunks

            named = named_chunks(self.manifest, self._cache.version())
            found["cache_vs_server"] = sorted(named ^ ledger)
        return found

    def close(self) -> None:
        if self._cache is not None:
            self._cache.close()
        self.ledger.close()


_indexes: dict[tuple[str, str | None, str, str], Index] = {}
_indexes_lock = threading.Lock()


def close_indexes() -> None:
    """Close every index `open_index` opened (their polling threads stop)."""
    with _indexes_lock:
        for index in _indexes.values():
            index.close()
        _indexes.clear()


def open_index(settings: Settings, progress: Progress | None = None) -> Index:
    """The Index for these settings, opened once per process (the UI and API share it).

    Against a server the first open builds this machine's cache (`progress` is told how far).
    """
    key = (str(settings.store_dir), settings.chroma_url, settings.collection, settings.embedder)
    with _indexes_lock:
        if key not in _indexes:
            _indexes[key] = Index(settings, progress)
        return _indexes[key]
