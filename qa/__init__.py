"""qa: ask questions about your news articles; every answer cites the passage it came from.

Example:
    >>> from qa import answer
    >>> a = answer("Which UN resolutions demand withdrawal?")
    >>> a.citations[0].quote
    'The Minsk Group’s efforts have resulted in no progress ...'
"""

from qa.answer import QuestionError, answer, build_chain, stream
from qa.config import Settings
from qa.ingest import IngestBusy, ingest
from qa.retrieve import HybridRetriever
from qa.store import StoreError
from qa.types import Answer, Article, Chunk, Citation, Filters, IngestReport, Passage, Removed

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
