"""A front end's ledger as a cache of the server: built on first open, then kept in step.

`sync()` brings the ledger to the server's index version (`qa.index.manifest`). The first time it
reads the whole manifest, bucket by bucket, and fetches the chunks' text and metadata from
Chroma (no vectors: those stay on the server), committing a few thousand chunks at a time, so
a build that is killed resumes where it stopped. Later it pulls only the article records newer
than its version, and applies them with the new version in one transaction: a question never
sees half an ingest. `Poller` calls it every few seconds in a thread of its own, never on the
path of a question.

If the server moves on while a sync reads (an ingest removes chunks it was about to fetch), the
sync starts again from the new version.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from qa.config import Settings
from qa.errors import StoreError
from qa.index.chroma import Chunks
from qa.index.ledger import Ledger
from qa.index.manifest import BUCKETS, Manifest, Record
from qa.types import Progress

log = logging.getLogger(__name__)

BATCH_CHUNKS = 2000
"""Chunks fetched per request, and committed together by a full build."""
ATTEMPTS = 5
SMALL = 5000
"""Manifest records read in one request by a full build; more are read bucket by bucket."""


class Cache:
    """This machine's ledger as the cache of one collection on a server: brought in step on
    open (built the first time), then by a polling thread; rebuilt on demand."""

    def __init__(
        self,
        ledger: Ledger,
        client: Any,
        chunks: Chunks,
        settings: Settings,
        progress: Progress | None = None,
    ) -> None:
        from filelock import FileLock

        self.ledger, self.chunks, self.settings = ledger, chunks, settings
        self.where = str(settings.chroma_url)
        self.manifest = Manifest(client, settings.collection, self.where)
        self._lock = threading.Lock()
        # Two processes sharing this folder (`qa serve` and `qa ingest`) sync one at a time.
        self._file_lock = FileLock(f"{ledger.path}.lock")
        unpublished = self.sync(progress) == 0 and not self.manifest.collection.count()
        if unpublished and not ledger.count() and chunks.collection.count():
            log.warning(
                "%s holds chunks but no article manifest: run `qa ingest` on the machine that "
                "ingested them (it publishes its ledger)",
                self.where,
            )
        self._poller = Poller(self.sync, settings.sync_s, self.where)

    def sync(self, progress: Progress | None = None) -> int:
        """Bring the cache to the server's version; returns the version."""
        with self._lock, self._file_lock:
            return sync(self.ledger, self.manifest, self.chunks, progress)

    def rebuild(self, progress: Progress | None = None) -> None:
        """Throw the cache away and build it again from the server."""
        with self._lock, self._file_lock:
            self.ledger.clear()
            with self.ledger.transaction() as db:
                self.ledger.set_meta(db, "server_version", None)
        self.sync(progress)

    def publisher(self) -> Any:
        """A write session for an ingest (`qa.index.publish.Publisher`), not yet begun."""
        from qa.index.publish import Publisher

        return Publisher(self.ledger, self.manifest, self.chunks, self.sync, self.settings.lease_s)

    def version(self) -> int:
        """The server version this cache holds."""
        return int(self.ledger.meta("server_version") or 0)

    def close(self) -> None:
        self._poller.stop()


class _Moved(Exception):
    """The server changed under a sync (chunks it names are gone): start again."""


def sync(
    ledger: Ledger, manifest: Manifest, chunks: Chunks, progress: Progress | None = None
) -> int:
    """Bring `ledger` to the server's version; returns that version."""
    identity = str(manifest.collection.id)
    for _ in range(ATTEMPTS):
        target = manifest.state().version
        if ledger.meta("server_collection") not in (None, identity):
            log.warning("the server's collection was recreated; rebuilding the cache")
            ledger.clear()
            with ledger.transaction() as db:
                ledger.set_meta(db, "server_version", None)
        local = int(ledger.meta("server_version") or 0)
        if target == local:
            return local
        try:
            if local == 0 or target < local:
                _build(ledger, manifest, chunks, target, identity, progress)
            else:
                _pull(ledger, manifest, chunks, local, target)
        except _Moved:
            log.info("the server moved on during a sync; starting again")
            continue
        return target
    raise StoreError(
        f"the cache of {manifest.where} could not catch up with it in {ATTEMPTS} attempts "
        "(ingests kept changing it); try again"
    )


def _latest(records: Sequence[Record]) -> dict[str, Record]:
    """Each source's newest record."""
    out: dict[str, Record] = {}
    for r in sorted(records, key=lambda r: r.version):
        out[r.source] = r
    return out


def _pull(ledger: Ledger, manifest: Manifest, chunks: Chunks, local: int, target: int) -> None:
    latest = _latest(manifest.records(above=local, upto=target))
    _check_still(manifest, target)
    with ledger.transaction() as db:
        for r in latest.values():
            Ledger.remove(db, r.source)
        for batch, got in _fetched(chunks, [r for r in latest.values() if not r.deleted]):
            Ledger.put(db, [r.row for r in batch], got)
        ledger.set_meta(db, "server_version", str(target))
    log.info(
        "cache of %s: version %d -> %d (%d articles)", manifest.where, local, target, len(latest)
    )


def _build(
    ledger: Ledger,
    manifest: Manifest,
    chunks: Chunks,
    target: int,
    identity: str,
    progress: Progress | None,
) -> None:
    records: list[Record] = []
    # A small manifest in one request; a large one bucket by bucket (a bar that moves, and
    # no response of tens of megabytes).
    buckets = range(BUCKETS) if manifest.collection.count() > SMALL else [None]
    for b in buckets:
        if progress:
            progress(b or 0, len(buckets), f"reading the manifest of {manifest.where}")
        records.extend(manifest.records(above=0, upto=target, in_bucket=b))
    _check_still(manifest, target)
    live = {s: r for s, r in _latest(records).items() if not r.deleted}
    have = ledger.versions()
    todo = [r for s, r in sorted(live.items()) if have.get(s) != r.version]
    total = sum(len(r.chunk_ids) for r in todo)
    log.info(
        "building the cache of %s: %d of %d articles, %d chunks to fetch",
        manifest.where,
        len(todo),
        len(live),
        total,
    )
    with ledger.transaction() as db:
        ledger.set_meta(db, "server_collection", identity)
        ledger.set_meta(db, "server_version", None)
    done = 0
    for batch, got in _fetched(chunks, todo):
        with ledger.transaction() as db:
            for r in batch:
                Ledger.remove(db, r.source)
            Ledger.put(db, [r.row for r in batch], got)
        done += len(got)
        if progress:
            progress(done, total, f"fetching passages from {manifest.where}")
    with ledger.transaction() as db:
        for source in have.keys() - live.keys():
            Ledger.remove(db, source)
        ledger.set_meta(db, "server_version", str(target))


def _check_still(manifest: Manifest, target: int) -> None:
    """An ingest that commits cleans up after itself: a listing made meanwhile may miss an
    article's record at `target`, so it is taken only if the version did not move."""
    if manifest.state().version != target:
        raise _Moved


def _fetched(chunks: Chunks, records: Sequence[Record]) -> Iterator[tuple[list[Record], list[Any]]]:
    """(records, their chunks) in batches of about `BATCH_CHUNKS` chunks, the next batch
    fetched while the caller stores this one."""
    batches: list[list[Record]] = [[]]
    size = 0
    for r in records:
        if size >= BATCH_CHUNKS:
            batches.append([])
            size = 0
        batches[-1].append(r)
        size += len(r.chunk_ids)
    batches = [b for b in batches if b]

    def fetch(batch: list[Record]) -> list[Any]:
        owner = {cid: (str(r.row["key"]), r.source) for r in batch for cid in r.chunk_ids}
        got = chunks.fetch(list(owner), owner)
        if len(got) != len(owner):
            raise _Moved
        return [got[cid] for r in batch for cid in r.chunk_ids]

    if not batches:
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1, thread_name_prefix="qa-fetch") as pool:
        ahead = pool.submit(fetch, batches[0])
        for i, batch in enumerate(batches):
            got = ahead.result()
            if i + 1 < len(batches):
                ahead = pool.submit(fetch, batches[i + 1])
            yield batch, got


class Poller:
    """Calls `sync` every `interval_s` seconds in a daemon thread until `stop()`."""

    def __init__(self, sync: Callable[[], Any], interval_s: float, where: str) -> None:
        self._sync = sync
        self._interval = interval_s
        self._where = where
        self._stop = threading.Event()
        self._failing = False
        self._thread = threading.Thread(target=self._run, name="qa-sync", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self._sync()
            except Exception as e:  # the server may be down for a while: keep the cache, retry
                if not self._failing:
                    log.warning(
                        "cannot sync the cache of %s (%s); retrying every %g s",
                        self._where,
                        e,
                        self._interval,
                    )
                self._failing = True
            else:
                if self._failing:
                    log.warning("the cache of %s is in step again", self._where)
                self._failing = False

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


def named_chunks(manifest: Manifest, version: int) -> set[str]:
    """The chunk ids the server's articles name at `version` (what a cache must hold)."""
    latest = _latest(manifest.records(above=0, upto=version))
    return {c for r in latest.values() if not r.deleted for c in r.chunk_ids}
