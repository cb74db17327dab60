"""Answers from an article's header: who wrote it, which outlet published it, and when.

The header is the part of an article's text before its body (the seed's ` date 2020-04-01 By
Azernews` and `By Akbar Mammadov` lines, or a Markdown file's front matter). The line holding
the asked field is quoted and cited with its offsets like any sentence; its value is the short
answer. Formats whose metadata does not stand in the text (HTML meta tags, JSON fields) have no
header to quote, and their questions go to the article's sentences.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from qa.answering.question import Question
from qa.text import term_set
from qa.types import Citation, Passage

if TYPE_CHECKING:
    from qa.index.store import Index

HEADER_WORDS = term_set(
    "who wrote write written author authored byline article story report piece outlet newspaper "
    "paper publication publisher published publish agency website site media news date posted "
    "released when which what"
)
"""Words of a header question that are about the header, not about the article's subject."""

_DATE_LINE = re.compile(r"\bdate\b|\d{4}-\d{2}-\d{2}|\b\d{4}\b", re.IGNORECASE)


def _lines(header: str) -> list[tuple[int, int]]:
    """Spans of the non-blank lines of a header, without surrounding white space."""
    out = []
    for m in re.finditer(r"[^\r\n]+", header):
        a, b = m.span()
        text = m.group()
        a += len(text) - len(text.lstrip())
        b -= len(text) - len(text.rstrip())
        if a < b:
            out.append((a, b))
    return out


def _field_span(header: str, kind: str, passage: Passage) -> tuple[int, int, str] | None:
    """(line start, line end, value) of the header line stating `kind`, if there is one."""
    c = passage.chunk
    value = {"author": c.author, "publisher": c.publisher, "published": c.date}[kind]
    if not value:
        return None
    lines = _lines(header)
    if kind == "published":
        dated = [(a, b) for a, b in lines if _DATE_LINE.search(header[a:b])]
        if not dated:
            return None
        a, b = dated[0]
        raw = re.search(r"\d{4}-\d{2}-\d{2}", header[a:b])
        return a, b, raw.group() if raw else value
    for a, b in lines:
        if value in header[a:b]:
            if (
                kind == "author"
                and c.publisher
                and c.publisher in header[a:b]
                and value != c.publisher
            ):
                continue  # the publisher's line, not the byline
            return a, b, value
    return None


def header_answer(
    asked: Question, passages: Sequence[Passage], index: Index
) -> tuple[Citation, str, float] | None:
    """(citation of the header line, its value, confidence) for a header question, or None.

    The article is the best-ranked one whose header states the field; the confidence grows
    with how much of the rest of the question ("...the article about NATO rejecting the
    elections") its passage covers.
    """
    headers = index.headers([p.chunk.source for p in passages])
    for rank, passage in enumerate(passages):
        header = headers.get(passage.chunk.source, "")
        found = _field_span(header, asked.kind, passage) if header else None
        if found is None:
            continue
        a, b, value = found
        subject = [t for t in asked.terms if t not in HEADER_WORDS]
        covered = term_set(passage.chunk.text + " " + passage.chunk.title)
        share = sum(t in covered for t in subject) / len(subject) if subject else 0.5
        confidence = (0.55 + 0.4 * share) * (1.0 if rank == 0 else 0.8)
        c = passage.chunk
        citation = Citation(
            n=1,
            source=c.source,
            title=c.title,
            date=c.date,
            publisher=c.publisher,
            quote=header[a:b],
            start=a,
            end=b,
            chunk_id=c.id,
            author=c.author,
            passage=header.rstrip(),
            passage_start=0,
        )
        return citation, value, confidence
    return None
