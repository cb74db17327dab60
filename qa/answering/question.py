"""What a question asks for: whether it is about an article itself, and its terms.

Questions about an article itself ("who wrote the article", "which outlet published it", "when
was it published") ask for its header: author, publisher or date (`qa.answering.header`). Every
other question goes to the reader.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from qa.text import query_terms

HEADER_KINDS = ("author", "publisher", "published")
"""Kinds answered by an article's header rather than its body."""

_ARTICLE = r"(?:article|story|report|piece|news item|op-ed|column|editorial)"
_KIND_RULES: tuple[tuple[str, str], ...] = (
    (
        "author",
        rf"\b(?:who (?:wrote|authored|is the author of|penned)\b.*\b{_ARTICLE}|author|"
        rf"byline|written by|{_ARTICLE} (?:was )?(?:written|by whom))\b",
    ),
    (
        "publisher",
        r"\b(?:which|what) (?:outlet|newspaper|paper|publication|publisher|news agency|"
        r"agency|website|site|media outlet|news site|news outlet)\b|\bwho published\b|"
        rf"\bpublished (?:the|this) {_ARTICLE}\b|\bpublisher\b",
    ),
    (
        "published",
        rf"\bwhen (?:was|is) (?:the|this) {_ARTICLE}\b.*\b(?:published|written|posted|"
        rf"released)|\b(?:date|day) (?:of|was) (?:the|this) {_ARTICLE}\b|\bpublication date\b",
    ),
)
_KIND_PATTERNS = tuple((kind, re.compile(rule, re.IGNORECASE)) for kind, rule in _KIND_RULES)


@dataclass(frozen=True)
class Question:
    """A question taken apart: what it asks for and its terms (stems)."""

    text: str
    kind: str
    """One of `HEADER_KINDS`, or "other"."""
    terms: tuple[str, ...]

    @property
    def asks_header(self) -> bool:
        return self.kind in HEADER_KINDS


def kind_of(text: str) -> str:
    """The header field a question asks for (`HEADER_KINDS`), or "other"."""
    for kind, pattern in _KIND_PATTERNS:
        if pattern.search(text):
            return kind
    return "other"


def analyse(text: str) -> Question:
    """Take a question apart (see `Question`)."""
    return Question(text=text, kind=kind_of(text), terms=tuple(query_terms(text)))
