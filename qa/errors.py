"""The errors qa raises on purpose; they carry what went wrong and what to do about it."""

from __future__ import annotations


class StoreError(RuntimeError):
    """The index cannot be opened or used as asked; the message says why and what to do."""


class IngestBusy(RuntimeError):
    """Another ingest holds the store's lock (or, against a Chroma server, its lease)."""


INSTALL = {
    "llamacpp": "pip install 'qa[llm]'",
    "openai": "pip install 'qa[openai]'",
    "ollama": "pip install 'qa[ollama]'",
}
"""How to install each generative provider's optional package."""


def missing(provider: str, package: str, error: ImportError) -> RuntimeError:
    """The error for a provider whose optional `package` is not installed."""
    return RuntimeError(
        f"the {provider}: answerer needs {package}, which is not installed: "
        f"{INSTALL[provider]} ({error})"
    )
