"""The Chroma side of the index: the client (on disk, or a server behind a token), the chunk
collection, and the filters in Chroma's terms.

A shared server sits behind an authenticating reverse proxy (chromadb 1.x's own server has no
working auth): `Settings.chroma_token` (from `QA_CHROMA_TOKEN`, never a flag, never logged)
is sent in `Settings.chroma_token_header` on every request, as `Bearer <token>` when that
header is `Authorization`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from qa import crash_points
from qa.config import Settings
from qa.errors import StoreError
from qa.index.keyword import date_int
from qa.types import Chunk, Filters

if TYPE_CHECKING:
    import numpy as np

STEP = 5000
"""Ids per Chroma request at most (the server's own limit may be lower)."""


def auth_headers(settings: Settings) -> dict[str, str]:
    """The proxy's token header, or none."""
    token = settings.chroma_token
    if not token:
        return {}
    name = settings.chroma_token_header
    return {name: f"Bearer {token}" if name.lower() == "authorization" else token}


def connect(settings: Settings) -> Any:
    """A Chroma client: the server at `settings.chroma_url`, or Chroma on disk."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if not settings.chroma_url:
        return chromadb.PersistentClient(
            path=str(settings.store_dir / "chroma"), settings=chroma_settings
        )
    u = urlparse(settings.chroma_url)
    try:
        client = chromadb.HttpClient(
            host=u.hostname or "127.0.0.1",
            port=u.port or (443 if u.scheme == "https" else 8000),
            ssl=u.scheme == "https",
            headers=auth_headers(settings) or None,
            settings=chroma_settings,
            tenant=settings.chroma_tenant,
            database=settings.chroma_database,
        )
        client.heartbeat()
    except Exception as e:
        raise server_error(settings, e) from e
    return client


def server_error(settings: Settings, error: Exception) -> StoreError:
    """What went wrong talking to the server, in words: refused (the token), or unreachable."""
    import httpx

    url = settings.chroma_url
    try:
        response = httpx.get(
            f"{str(url).rstrip('/')}/api/v2/heartbeat", headers=auth_headers(settings), timeout=10
        )
        status = response.status_code
    except httpx.HTTPError:
        status = None
    if status in (401, 403):
        given = (
            "the token in QA_CHROMA_TOKEN was refused"
            if settings.chroma_token
            else ("no token was sent (QA_CHROMA_TOKEN is not set)")
        )
        return StoreError(
            f"Chroma server at {url} refused the request (HTTP {status} from the proxy in front "
            f"of it): {given}; set QA_CHROMA_TOKEN to the proxy's token (and "
            f"QA_CHROMA_TOKEN_HEADER if it expects another header than "
            f"{settings.chroma_token_header})"
        )
    return StoreError(
        f"Chroma server at {url} is not reachable ({type(error).__name__}: {error}); start one "
        f"with `chroma run --path DIR --port N` or unset --chroma-url/QA_CHROMA_URL"
    )


def open_chunks(client: Any, settings: Settings) -> Any:
    """The collection of chunk vectors, refusing one made with another embedder."""
    collection = client.get_or_create_collection(
        settings.collection,
        configuration={"hnsw": {"space": "cosine"}},
        metadata={"embedder": settings.embedder},
    )
    theirs = (collection.metadata or {}).get("embedder")
    if theirs and theirs != settings.embedder:
        where = settings.chroma_url or str(settings.store_dir)
        raise StoreError(
            f"Chroma collection {settings.collection!r} at {where} holds vectors of {theirs}, "
            f"not {settings.embedder}. Use --collection NAME for a separate index."
        )
    return collection


class Chunks:
    """The chunk collection: vectors, text and metadata of every chunk, by chunk id."""

    def __init__(self, collection: Any, max_batch: int) -> None:
        self.collection = collection
        self.step = max(1, min(max_batch, STEP))

    def upsert(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        for i in range(0, len(chunks), self.step):
            part = chunks[i : i + self.step]
            crash_points.reached("write")
            self.collection.upsert(
                ids=[c.id for c in part],
                embeddings=vectors[i : i + self.step],
                metadatas=[chroma_metadata(c) for c in part],
                documents=[c.text for c in part],
            )

    def delete(self, ids: Sequence[str]) -> None:
        ids = list(ids)
        for i in range(0, len(ids), self.step):
            crash_points.reached("write")
            self.collection.delete(ids=ids[i : i + self.step])

    def present(self, ids: Sequence[str]) -> set[str]:
        """Those of `ids` that Chroma holds."""
        ids, found = list(ids), set[str]()
        for i in range(0, len(ids), self.step):
            found.update(self.collection.get(ids=ids[i : i + self.step], include=[])["ids"])
        return found

    def all_ids(self) -> set[str]:
        found: set[str] = set()
        offset = 0
        while True:
            got = self.collection.get(include=[], limit=self.step, offset=offset)["ids"]
            found.update(got)
            if len(got) < self.step:
                return found
            offset += self.step

    def fetch(self, ids: Sequence[str], owner: dict[str, tuple[str, str]]) -> dict[str, Chunk]:
        """The chunks with these ids (those Chroma holds), rebuilt from their documents.

        Args:
            ids: chunk ids (one request per `step` of them).
            owner: each chunk's article (key, source), by chunk id: the manifest says whose
                it is (the same text under a new name keeps its chunk ids).
        """
        out: dict[str, Chunk] = {}
        ids = list(ids)
        for i in range(0, len(ids), self.step):
            got = self.collection.get(
                ids=ids[i : i + self.step], include=["documents", "metadatas"]
            )
            for cid, text, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True):
                key, source = owner[cid]
                out[cid] = chunk_from_record(cid, key, source, text, meta)
        return out

    def query(self, vector: np.ndarray, n: int, filters: Filters | None) -> list[tuple[str, float]]:
        """Nearest chunks by cosine: (chunk id, similarity), best first."""
        result = self.collection.query(
            query_embeddings=[vector],
            n_results=n,
            where=chroma_where(filters),
            include=["distances"],
        )
        ids, distances = result["ids"][0], result["distances"][0]
        return [(str(i), 1.0 - float(d)) for i, d in zip(ids, distances, strict=True)]


def chroma_metadata(c: Chunk) -> dict[str, str | int]:
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


def chunk_from_record(cid: str, key: str, source: str, text: str, meta: dict[str, Any]) -> Chunk:
    """A chunk as `chroma_metadata` wrote it."""
    return Chunk(
        id=cid,
        article_id=key,
        source=source,
        index=int(meta["index"]),
        text=text,
        start=int(meta["start"]),
        end=int(meta["end"]),
        title=str(meta.get("title", "")),
        date=meta.get("date"),
        publisher=meta.get("publisher"),
        author=meta.get("author"),
        page=meta.get("page"),
    )


def chroma_where(filters: Filters | None) -> dict[str, Any] | None:
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
