"""qa: ask questions about your news articles; every answer cites the passage it came from.

Example:
    >>> from qa import answer
    >>> a = answer("Which UN resolutions demand withdrawal?")
    >>> a.citations[0].source
    'corpus/000_597cfd3371608b94.txt'

The names below are imported on first use: `qa --help` must not wait for LangChain or torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qa.answering.pipeline import QuestionError, answer, stream
    from qa.answering.runnables import HybridRetriever, build_chain
    from qa.config import Settings
    from qa.index.store import StoreError
    from qa.ingestion.job import IngestBusy, ingest
    from qa.types import (
        Answer,
        Article,
        Chunk,
        Citation,
        Filters,
        IngestReport,
        Passage,
        Removed,
    )

_WHERE = {
    "Answer": "qa.types",
    "Article": "qa.types",
    "Chunk": "qa.types",
    "Citation": "qa.types",
    "Filters": "qa.types",
    "HybridRetriever": "qa.answering.runnables",
    "IngestBusy": "qa.ingestion.job",
    "IngestReport": "qa.types",
    "Passage": "qa.types",
    "QuestionError": "qa.answering.pipeline",
    "Removed": "qa.types",
    "Settings": "qa.config",
    "StoreError": "qa.index.store",
    "answer": "qa.answering.pipeline",
    "build_chain": "qa.answering.runnables",
    "ingest": "qa.ingestion.job",
    "stream": "qa.answering.pipeline",
}

__all__ = [
    "Answer",
    "Article",
    "Chunk",
    "Citation",
    "Filters",
    "HybridRetriever",
    "IngestBusy",
    "IngestReport",
    "Passage",
    "QuestionError",
    "Removed",
    "Settings",
    "StoreError",
    "answer",
    "build_chain",
    "ingest",
    "stream",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'qa' has no attribute {name!r}")
    return getattr(importlib.import_module(_WHERE[name]), name)
