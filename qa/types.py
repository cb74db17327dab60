"""The records that flow between stages: articles, chunks, citations, answers.

Small frozen dataclasses that import nothing else of ours, so every stage can use them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

Fallback = Literal["", "failed", "unsupported"]
"""Why a generative answer gave way to the extractive one: "" (it did not), "failed" (the
backend failed, timed out or returned nothing usable), "unsupported" (the grounding check
removed every generated sentence)."""

Progress = Callable[[int, int, str], None]
"""progress(done, total, message): how far a long job is (chunks embedded, cases scored,
records synced), for a progress bar."""


@dataclass(frozen=True)
class Article:
    """One article as loaded from a file, before chunking.

    `text` is the text that citations point into: `text[start:end]` of a citation is its quote.
    For `.txt` and `.md` files it is the file's decoded content (front matter included), so a
    quote can be found in the file itself; for HTML, PDF and JSON it is the extracted text.
    """

    source: str
    text: str
    title: str
    date: str | None = None
    publisher: str | None = None
    author: str | None = None
    url: str | None = None
    body_start: int = 0
    """Offset where the article's body starts (after a header or front matter)."""
    page_starts: tuple[int, ...] = ()
    """For PDFs: the offset in `text` where page 1, 2, ... starts."""

    def page_at(self, offset: int) -> int | None:
        """The 1-based page holding `offset`, or None for articles without pages."""
        if not self.page_starts:
            return None
        page = 1
        for n, start in enumerate(self.page_starts, start=1):
            if start <= offset:
                page = n
        return page


@dataclass(frozen=True)
class Problem:
    """Something that could not be loaded or indexed, and why."""

    source: str
    reason: str

    def __str__(self) -> str:
        return f"{self.source}: {self.reason}"


@dataclass(frozen=True)
class Chunk:
    """A passage of an article, the unit that is embedded, indexed and cited."""

    id: str
    article_id: str
    source: str
    index: int
    text: str
    start: int
    end: int
    title: str
    date: str | None = None
    publisher: str | None = None
    author: str | None = None
    page: int | None = None


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with the scores that ranked it."""

    chunk: Chunk
    score: float
    dense_rank: int | None = None
    keyword_rank: int | None = None
    dense_similarity: float | None = None


@dataclass(frozen=True)
class Citation:
    """A numbered citation: `quote` occurs verbatim in the article at `[start:end]`."""

    n: int
    source: str
    title: str
    date: str | None
    publisher: str | None
    quote: str
    start: int
    end: int
    chunk_id: str
    author: str | None = None
    page: int | None = None
    passage: str = ""
    """The whole cited chunk, for showing the quote in context."""
    passage_start: int = 0
    """Offset of `passage` in the article; the quote is `passage[start - passage_start:...]`."""

    @classmethod
    def quoting(cls, n: int, passage: Passage, start: int, end: int) -> Citation:
        """Citation `n` quoting `passage`'s article at `[start:end]` (article offsets)."""
        c = passage.chunk
        return cls(
            n=n,
            source=c.source,
            title=c.title,
            date=c.date,
            publisher=c.publisher,
            quote=c.text[start - c.start : end - c.start],
            start=start,
            end=end,
            chunk_id=c.id,
            author=c.author,
            page=c.page,
            passage=c.text,
            passage_start=c.start,
        )


@dataclass(frozen=True)
class Removed:
    """A generated sentence the grounding check removed, and why."""

    sentence: str
    reason: str


@dataclass(frozen=True)
class Side:
    """One side of a disagreement between articles: what it says and where."""

    short: str
    """The answer this side gives ("41")."""
    n: int
    """The number of its citation in `Answer.citations`."""
    source: str
    date: str | None
    publisher: str | None
    confidence: float


WELL_SUPPORTED = 0.7
"""Confidence from which an answer is called "well supported" rather than "weak"."""


@dataclass(frozen=True)
class Answer:
    """What `qa.answer()` returns: text with [n] markers and the citations behind them."""

    question: str
    text: str
    answered: bool
    citations: tuple[Citation, ...] = ()
    query: str = ""
    """The standalone query that was searched (differs from `question` for follow-ups)."""
    answerer: str = "extractive"
    passages: tuple[Passage, ...] = field(default=(), repr=False)
    removed: tuple[Removed, ...] = ()
    """Generated sentences dropped by the grounding check."""
    notice: str = ""
    """A note for the user, e.g. that a generative backend failed and the answer is extractive."""
    short: str = ""
    """The span of the quote that answers (a year, a count, a name), when one stands out."""
    confidence: float = 0.0
    """Probability, in [0, 1], that the quoted sentence answers the question (`qa.decision`);
    for an abstention, that of the best sentence that was refused."""
    near_miss: bool = False
    """Abstained, but the corpus says something close; `text` and `citations` say what."""
    timings_ms: dict[str, float] = field(default_factory=dict, compare=False)
    fallback: Fallback = ""
    """Why the generative answerer's answer was replaced by this extractive one ("" when it was
    not); `notice` tells the user in words."""
    according_to: str = ""
    """Who said it and when, as the text begins: "According to Azernews on 1 April 2020" (""
    when the cited article names neither)."""
    as_of: str | None = None
    """For a question about the present (or asked `as_of` a date): the date (YYYY-MM-DD) of the
    newest article the answer comes from."""
    conflicts: tuple[Side, ...] = ()
    """When articles disagree: each side, newest first (`text` says "The sources differ")."""

    @property
    def verdict(self) -> str:
        """The confidence in words a reader acts on (the CLI and the UI show it)."""
        if self.near_miss:
            return "not in the corpus: the closest it says is quoted"
        if not self.answered:
            return "not in the corpus"
        if self.conflicts:
            return "the sources differ"
        if self.confidence >= WELL_SUPPORTED:
            return "well supported"
        return "weak: check the source"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (what `qa ask --json` prints)."""
        data = dataclasses.asdict(self)
        data["verdict"] = self.verdict
        data["passages"] = [
            {
                "chunk_id": p.chunk.id,
                "source": p.chunk.source,
                "score": p.score,
                "dense_rank": p.dense_rank,
                "keyword_rank": p.keyword_rank,
            }
            for p in self.passages
        ]
        return data


@dataclass(frozen=True)
class Filters:
    """Restrict retrieval to some publishers and/or a date range (inclusive, YYYY-MM-DD)."""

    publishers: tuple[str, ...] = ()
    date_from: str | None = None
    date_to: str | None = None

    def is_empty(self) -> bool:
        return not self.publishers and self.date_from is None and self.date_to is None


@dataclass
class IngestReport:
    """What an ingest did, by article."""

    added: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    duplicates: list[Problem] = field(default_factory=list)
    failed: list[Problem] = field(default_factory=list)
    chunks_embedded: int = 0
    chunks_removed: int = 0
    seconds: float = 0.0

    @property
    def partial(self) -> bool:
        """True when some input could not be ingested."""
        return bool(self.failed)

    def summary(self) -> str:
        return (
            f"{len(self.added)} added, {len(self.unchanged)} unchanged, "
            f"{len(self.replaced)} replaced, {len(self.removed)} removed, "
            f"{len(self.duplicates)} duplicate, {len(self.failed)} failed "
            f"({self.chunks_embedded} chunks embedded in {self.seconds:.1f}s)"
        )
