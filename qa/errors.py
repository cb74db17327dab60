"""The errors the index raises; they carry what went wrong and what to do about it."""

from __future__ import annotations


class StoreError(RuntimeError):
    """The index cannot be opened or used as asked; the message says why and what to do."""


class IngestBusy(RuntimeError):
    """Another ingest holds the store's lock (or, against a Chroma server, its lease)."""
