"""One ingest's writes to a Chroma server: made at the next version, visible when committed.

`Publisher.begin` takes the server's write lease (`qa.index.manifest`), brings this machine's cache
to the server's version and notes what a crashed ingest left. Writes then go to the server
only: each batch's article records first (so every chunk written is named by a record), then
its chunks. The cache is not touched until `commit`, which moves the version (the one moment
readers see the change, all of it), then deletes what the new version no longer names:
replaced chunks, superseded records, and after a crash anything no committed article names.
Until then the publisher answers the ingest's own questions ("what is stored for this
source?") from its records over the cache.

A re-run after a crash finishes the job: articles whose records and chunks the crashed run
wrote completely are taken over without embedding them again (`adopt`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qa.errors import StoreError
from qa.index.chroma import Chunks
from qa.index.ledger import Ledger, Stored
from qa.index.manifest import Lease, Manifest, Record, State, record_id
from qa.types import Chunk

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)


class Publisher:
    """An ingest's session against the server, between `begin()` and `commit()`."""

    def __init__(
        self,
        ledger: Ledger,
        manifest: Manifest,
        chunks: Chunks,
        sync: Callable[[], Any],
        lease_s: float,
    ) -> None:
        self.ledger, self.manifest, self.chunks = ledger, manifest, chunks
        self._sync = sync
        self._lease_s = lease_s
        self.written: dict[str, Record] = {}
        """This run's records by source (tombstones included)."""
        self._unsent: list[Record] = []
        self._garbage: set[str] = set()
        self._marked = False
        self._lost: Exception | None = None
        self._stop = threading.Event()
        self._lease: Lease | None = None

    @property
    def lease(self) -> Lease:
        if self._lease is None:
            raise StoreError(f"this ingest holds no lease on {self.manifest.where}")
        return self._lease

    def begin(self) -> None:
        self._lease = self.manifest.acquire(self._lease_s)
        self._renewer = threading.Thread(target=self._renew, name="qa-lease", daemon=True)
        self._renewer.start()
        self._sync()
        state = self.manifest.state()
        self.base, self.version = state.version, state.version + 1
        left = self.manifest.records(above=self.base)
        self.crashed = state.dirty or bool(left)
        self.leftover = {r.source: r for r in left}
        wanted = [c for r in left if not r.deleted for c in r.chunk_ids]
        present = self.chunks.present(wanted) if wanted else set()
        self.resumable = {
            r.source: r for r in left if not r.deleted and set(r.chunk_ids) <= present
        }
        if self.crashed:
            log.warning(
                "an earlier ingest into %s did not finish (%d articles written); "
                "this one completes it",
                self.manifest.where,
                len(left),
            )
        if self.base == 0 and not left and self.ledger.count():
            self._publish_ledger()

    def _renew(self) -> None:
        while not self._stop.wait(self._lease_s / 3):
            try:
                self.lease.renew()
            except Exception as e:
                self._lost = e
                return

    def _publish_ledger(self) -> None:
        """A ledger from before the manifest (it alone knew the articles): put it on the server."""
        rows = [self.ledger.article(a.source) for a in self.ledger.articles()]
        log.warning(
            "publishing %d articles of this machine's ledger to %s", len(rows), self.manifest.where
        )
        for row in rows:
            assert row is not None
            ids = self.ledger.chunk_ids(row["source"])
            self._unsent.append(Record(row | {"version": self.version}, tuple(ids)))
            self.written[row["source"]] = self._unsent[-1]

    # --- what the ingest sees: its own writes over the cache --------------------------

    def _live(self, source: str) -> bool:
        r = self.written.get(source)
        if r is None:
            return self.ledger.stored(source) is not None
        return not r.deleted

    def stored(self, source: str) -> Stored | None:
        r = self.written.get(source)
        if r is None:
            return self.ledger.stored(source)
        if r.deleted:
            return None
        return Stored(r.row["key"], r.row["text_hash"], r.row["size"], r.row["mtime_ns"])

    def sources_with_text(self, text_hash: str) -> list[str]:
        mine = [
            s for s, r in self.written.items() if not r.deleted and r.row["text_hash"] == text_hash
        ]
        return sorted(
            {*mine, *(s for s in self.ledger.sources_with_text(text_hash) if s not in self.written)}
        )

    def sources_in(self, folder: Path) -> list[tuple[str, Path]]:
        prefix = str(folder).rstrip("/") + "/"
        found = {s: p for s, p in self.ledger.sources_in(folder) if s not in self.written}
        for s, r in self.written.items():
            if not r.deleted and str(r.row["path"]).startswith(prefix):
                found[s] = Path(r.row["path"])
        return sorted(found.items())

    def sources_of_path(self, path: Path) -> list[str]:
        found = {s for s in self.ledger.sources_of_path(path) if s not in self.written}
        found |= {
            s for s, r in self.written.items() if not r.deleted and r.row["path"] == str(path)
        }
        return sorted(found)

    def chunk_ids(self, source: str) -> list[str]:
        r = self.written.get(source)
        return self.ledger.chunk_ids(source) if r is None else list(r.chunk_ids)

    # --- writing ----------------------------------------------------------------------

    def put(self, items: Sequence[tuple[dict[str, Any], Sequence[Chunk], np.ndarray]]) -> None:
        import numpy as np

        self._check()
        records = []
        for row, part, _ in items:
            self._replacing(row["source"])
            records.append(Record(row | {"version": self.version}, tuple(c.id for c in part)))
        self._send(records)  # the records first: every chunk on the server is named by one
        chunks = [c for _, part, _ in items for c in part]
        if chunks:
            self.chunks.upsert(chunks, np.concatenate([v for _, p, v in items if len(p)]))
        self.written.update((r.source, r) for r in records)

    def _replacing(self, source: str) -> None:
        """The chunks `source` holds now may be garbage once the new version is committed."""
        self._garbage.update(self.chunk_ids(source))
        if source in self.leftover:
            self._garbage.update(self.leftover[source].chunk_ids)

    def remove(self, source: str) -> int:
        ids = self.chunk_ids(source)
        if not self._live(source):
            return 0
        self._replacing(source)
        tomb = Record({"source": source, "version": self.version}, (), deleted=True)
        self._unsent.append(tomb)
        self.written[source] = tomb
        return len(ids)

    def adopt(self, source: str, key: str) -> bool:
        """Take over what a crashed run wrote completely for `source` at `key`, if it did."""
        r = self.resumable.get(source)
        if r is None or r.row["key"] != key:
            return False
        self._garbage.update(self.chunk_ids(source))
        self.written[source] = r
        return True

    def touch(self, source: str, size: int, mtime_ns: int, header: str) -> None:
        """New size/mtime of an unchanged article; a header the server lacks is published."""
        self.ledger.touch(source, size, mtime_ns, header)
        row = self.ledger.article(source)
        if source in self.written or row is None or row["header"] == header:
            return
        self._unsent.append(
            Record(
                row | {"version": self.version, "header": header},
                tuple(self.ledger.chunk_ids(source)),
            )
        )
        self.written[source] = self._unsent[-1]

    def _send(self, records: Sequence[Record]) -> None:
        records = [*self._unsent, *records]
        self._unsent = []
        if not records:
            return
        if not self._marked:
            self.manifest.set_state(State(self.base, dirty=True), self.lease)
            self._marked = True
        self.manifest.put(records)

    def _check(self) -> None:
        if self._lost is not None:
            raise StoreError(str(self._lost)) from self._lost

    # --- committing -------------------------------------------------------------------

    def commit(self) -> None:
        """Make this run's writes visible at once, then delete what no article names."""
        self._send([])
        self._check()
        abandoned = [r for s, r in self.leftover.items() if s not in self.written]
        if abandoned:
            self.manifest.delete([r.id for r in abandoned])
            self._garbage.update(c for r in abandoned for c in r.chunk_ids)
        version = self.version if self.written else self.base
        if self.written or self.crashed or self._marked:
            self.manifest.set_state(State(version, dirty=True), self.lease)
            log.info(
                "committed version %d to %s (%d articles)",
                version,
                self.manifest.where,
                len(self.written),
            )
            self._clean_up()
            self.manifest.set_state(State(version, dirty=False), self.lease)
        self.close()
        self._sync()

    def _clean_up(self) -> None:
        named = {c for r in self.written.values() for c in r.chunk_ids}
        # Chunks the cache's other articles hold stay (duplicates are refused, but be sure).
        kept = {
            cid
            for cid, c in self.ledger.chunks(sorted(self._garbage)).items()
            if c.source not in self.written
        }
        garbage = self._garbage - named - kept
        versions = self.ledger.versions()
        superseded = [
            record_id(s, v)
            for s in self.written
            if (v := versions.get(s)) is not None and v != self.version
        ]
        self.manifest.delete(superseded)
        self.chunks.delete(sorted(garbage))
        if self.crashed:
            self._sweep(named)

    def _sweep(self, named: set[str]) -> None:
        """After a crash: delete every chunk and record that no committed article names."""
        live = {cid for cid, s in self.ledger.chunk_sources() if s not in self.written}
        orphans = self.chunks.all_ids() - live - named
        self.chunks.delete(sorted(orphans))
        newest: dict[str, Record] = {}
        stale: list[str] = []
        for r in sorted(self.manifest.records(above=0), key=lambda r: r.version):
            if r.source in newest:
                stale.append(newest[r.source].id)
            newest[r.source] = r
        self.manifest.delete(stale)
        log.info("swept %d orphan chunks and %d stale records", len(orphans), len(stale))

    def close(self) -> None:
        """Stop renewing and give the lease back (an aborted run's writes stay invisible)."""
        self._stop.set()
        lease, self._lease = self._lease, None
        if lease is None:
            return
        try:
            lease.release()
        except Exception as e:  # the lease expires by itself
            log.warning("could not release the lease on %s: %s", self.manifest.where, e)
