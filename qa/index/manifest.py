"""The manifest on a Chroma server: which articles the index holds, at which version, and who
may write it. With it the server holds the whole index; each front end's ledger is a cache.

A collection beside the chunks (`<collection>.qa-manifest`; one-dimensional vectors, never
searched) holds three kinds of records:

- **article records**, one per (source, version): the ledger's row of an article (source,
  path, content key, text hash, title, date, publisher, author, url, size, mtime) in the
  metadata, its header text and chunk ids in the document (JSON). A deleted article leaves a
  tombstone at the version that deleted it.
- **`version`**: the index version. An ingest writes its records at version + 1 and moves
  this record last, when everything it wrote is in place: readers take records up to it only,
  so they never see half an ingest. `dirty` says an ingest began writing and has not finished
  cleaning up.
- **leases** `lease-<generation>`: which ingest may write, until when. Taking one is an
  insert-if-absent of the next generation (Chroma's `add` keeps the first record of an id), so
  of two ingests racing for it exactly one wins, on any machine.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from qa import crash_points
from qa.errors import IngestBusy, StoreError
from qa.index.ledger import ARTICLE_COLUMNS

SUFFIX = ".qa-manifest"
BUCKETS = 64
"""Article records are spread over this many buckets, read one at a time by a full build."""
VERSION_ID = "version"
_ONE = [1.0]
"""Every record's vector: Chroma wants one, nothing searches them."""


@dataclass(frozen=True)
class State:
    """The server's index version, and whether an ingest left work to clean up."""

    version: int
    dirty: bool = False


@dataclass(frozen=True)
class Record:
    """One article at one version (`row` holds `ledger.ARTICLE_COLUMNS`), or its tombstone."""

    row: dict[str, Any]
    chunk_ids: tuple[str, ...]
    deleted: bool = False

    @property
    def source(self) -> str:
        return str(self.row["source"])

    @property
    def version(self) -> int:
        return int(self.row["version"])

    @property
    def id(self) -> str:
        return record_id(self.source, self.version)


def record_id(source: str, version: int) -> str:
    return f"article:{_digest(source)[:24]}@{version}"


def _digest(source: str) -> str:
    return hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest()


def bucket(source: str) -> int:
    return int(_digest(source)[:8], 16) % BUCKETS


def owner_name() -> str:
    """Who an ingest is: host, process and a random part (pids repeat across machines)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Manifest:
    """The manifest collection of one chunk collection on a server."""

    def __init__(self, client: Any, collection: str, where: str) -> None:
        self.collection = client.get_or_create_collection(
            collection + SUFFIX, embedding_function=None
        )
        self.where = where

    # --- the version ------------------------------------------------------------------

    def state(self) -> State:
        got = self.collection.get(ids=[VERSION_ID], include=["metadatas"])
        if not got["ids"]:
            return State(0)
        meta = got["metadatas"][0]
        return State(int(meta["version"]), bool(meta.get("dirty", False)))

    def set_state(self, state: State, lease: Lease) -> None:
        """Move the version (the commit point of an ingest), if `lease` is still held."""
        lease.check()
        meta = {
            "kind": "version",
            "version": state.version,
            "dirty": state.dirty,
            "generation": lease.generation,
            "at": time.time(),
        }
        crash_points.reached("write")
        self.collection.upsert(ids=[VERSION_ID], embeddings=[_ONE], metadatas=[meta])

    # --- article records --------------------------------------------------------------

    def put(self, records: Sequence[Record]) -> None:
        for i in range(0, len(records), 1000):
            part = records[i : i + 1000]
            crash_points.reached("write")
            self.collection.upsert(
                ids=[r.id for r in part],
                embeddings=[_ONE] * len(part),
                metadatas=[_metadata(r) for r in part],
                documents=[_document(r) for r in part],
            )

    def records(
        self, *, above: int, upto: int | None = None, in_bucket: int | None = None
    ) -> list[Record]:
        """Article records with a version in (above, upto], of one bucket or all."""
        clauses: list[dict[str, Any]] = [{"kind": "article"}, {"version": {"$gt": above}}]
        if upto is not None:
            clauses.append({"version": {"$lte": upto}})
        if in_bucket is not None:
            clauses.append({"bucket": in_bucket})
        got = self.collection.get(where={"$and": clauses}, include=["metadatas", "documents"])
        return [_record(m, d) for m, d in zip(got["metadatas"], got["documents"], strict=True)]

    def delete(self, ids: Sequence[str]) -> None:
        ids = list(ids)
        for i in range(0, len(ids), 1000):
            crash_points.reached("write")
            self.collection.delete(ids=ids[i : i + 1000])

    # --- the lease --------------------------------------------------------------------

    def acquire(self, ttl_s: float) -> Lease:
        """The write lease, or IngestBusy naming who holds it and until when."""
        leases = self._leases()
        generation = 1
        if leases:
            top = leases[-1]
            if _alive(top):
                until = time.strftime("%H:%M:%S", time.localtime(float(top["expires"])))
                raise IngestBusy(
                    f"another ingest ({top['owner']}) is writing to {self.where} (its lease "
                    f"runs until {until} unless renewed); wait for it to finish and run this "
                    "one again"
                )
            generation = int(top["generation"]) + 1
        lease = Lease(self, generation, owner_name(), ttl_s)
        meta = lease.metadata()
        # Insert-if-absent: of two ingests adding this generation, the first one's record stays.
        self.collection.add(ids=[lease.id], embeddings=[_ONE], metadatas=[meta])
        got = self.collection.get(ids=[lease.id], include=["metadatas"])
        if not got["ids"] or got["metadatas"][0]["owner"] != lease.owner:
            holder = got["metadatas"][0]["owner"] if got["ids"] else "another ingest"
            raise IngestBusy(
                f"another ingest ({holder}) took the lease on {self.where} first; wait for it "
                "to finish and run this one again"
            )
        older = [_lease_id(int(m["generation"])) for m in leases]
        if older:
            self.collection.delete(ids=older)
        return lease

    def _leases(self) -> list[dict[str, Any]]:
        got = self.collection.get(where={"kind": "lease"}, include=["metadatas"])
        return sorted(got["metadatas"], key=lambda m: int(m["generation"]))


@dataclass
class Lease:
    """The right to write the index, held by one ingest until it releases it or it expires."""

    manifest: Manifest
    generation: int
    owner: str
    ttl_s: float

    @property
    def id(self) -> str:
        return _lease_id(self.generation)

    def metadata(self) -> dict[str, Any]:
        return {
            "kind": "lease",
            "generation": self.generation,
            "owner": self.owner,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "expires": time.time() + self.ttl_s,
        }

    def check(self) -> None:
        """Raise StoreError if another ingest took the lease over (this one stalled too long)."""
        leases = self.manifest._leases()
        if not leases or leases[-1]["owner"] != self.owner:
            holder = leases[-1]["owner"] if leases else "nobody"
            raise StoreError(
                f"this ingest lost its lease on {self.manifest.where} to {holder} (it stalled "
                f"for more than {self.ttl_s:g} s); nothing it wrote is visible. Run it again."
            )

    def renew(self) -> None:
        self.check()
        self.manifest.collection.update(ids=[self.id], metadatas=[self.metadata()])

    def release(self) -> None:
        self.manifest.collection.delete(ids=[self.id])


def _lease_id(generation: int) -> str:
    return f"lease-{generation:012d}"


def _alive(lease: dict[str, Any]) -> bool:
    """Whether a lease still holds: not expired, and not of a dead process on this host."""
    if float(lease["expires"]) < time.time():
        return False
    if lease.get("host") == socket.gethostname():
        try:
            os.kill(int(lease["pid"]), 0)
        except ProcessLookupError:
            return False  # a crashed (killed) ingest on this machine: no need to wait
        except PermissionError:
            return True
    return True


def _metadata(r: Record) -> dict[str, Any]:
    meta = {c: r.row[c] for c in ARTICLE_COLUMNS if c != "header" and r.row.get(c) is not None}
    return meta | {"kind": "article", "bucket": bucket(r.source), "deleted": r.deleted}


def _document(r: Record) -> str:
    return json.dumps({"header": r.row.get("header"), "chunk_ids": list(r.chunk_ids)})


def _record(meta: dict[str, Any], document: str | None) -> Record:
    body = json.loads(document or "{}")
    row = {c: meta.get(c) for c in ARTICLE_COLUMNS} | {"header": body.get("header")}
    return Record(row, tuple(body.get("chunk_ids", ())), bool(meta.get("deleted", False)))
