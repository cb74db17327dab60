"""Sentence-aware chunking sized in the embedder's own word pieces.

A chunk is a contiguous span of the article, `article.text[start:end]`, made of whole
sentences packed up to `chunk_tokens` word pieces, the next chunk repeating the last sentences
of the one before (up to `overlap_tokens`). A sentence longer than a chunk is split at word
boundaries, so no chunk is ever longer than the model reads: nothing is cut silently.
"""

from __future__ import annotations

import bisect
import hashlib
import re
from collections.abc import Callable, Sequence

from qa.types import Article, Chunk

SPLITTER_VERSION = "1"

# A sentence ends at . ! or ? (plus closing quotes/brackets) followed by white space, or at a
# blank line. Abbreviations and initials ("Mr.", "U.S.", "J.") are not ends.
_END = re.compile(r"[.!?…][\"'”’)\]]*(?=\s)|\n\s*\n")
_ABBREV = re.compile(
    r"(?:\b(?:Mr|Mrs|Ms|Dr|Prof|Sr|Jr|St|Gen|Col|Lt|Sgt|Gov|Sen|Rep|Rev|Inc|Ltd|Co|Corp|vs|"
    r"etc|e\.g|i\.e|No|Vol|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|approx|est)|"
    r"\b[A-Z]|\b(?:[A-Za-z]\.){2,}[A-Za-z]?)\.$"
)


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Spans of the sentences in `text[start:end]`, without surrounding white space."""
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    pos = start
    for m in _END.finditer(text, start, end):
        stop = m.end() if m.group().strip() else m.start()
        if m.group().strip() and _ABBREV.search(text, max(pos, stop - 12), stop):
            continue
        if m.group().strip() and _lowercase_follows(text, stop, end):
            continue
        _add_span(text, pos, stop, spans)
        pos = m.end()
    _add_span(text, pos, end, spans)
    return spans


def _lowercase_follows(text: str, stop: int, end: int) -> bool:
    nxt = text[stop:end].lstrip()[:1]
    return nxt.islower()


def _add_span(text: str, a: int, b: int, spans: list[tuple[int, int]]) -> None:
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    if a < b:
        spans.append((a, b))


TokenSpans = Callable[[str], list[tuple[int, int]]]


def chunk_spans(
    text: str,
    token_spans: TokenSpans,
    *,
    body_start: int = 0,
    chunk_tokens: int = 128,
    overlap_tokens: int = 32,
    max_tokens: int = 254,
) -> list[tuple[int, int]]:
    """Character spans of the chunks of `text[body_start:]`."""
    limit = min(chunk_tokens, max_tokens)
    tokens = [(a + body_start, b + body_start) for a, b in token_spans(text[body_start:])]
    token_ends = [b for _, b in tokens]
    token_starts = [a for a, _ in tokens]

    def count(a: int, b: int) -> int:
        return bisect.bisect_right(token_starts, b - 1) - bisect.bisect_left(token_ends, a + 1)

    units: list[tuple[int, int, int]] = []  # sentence pieces: (start, end, tokens)
    for a, b in split_sentences(text, body_start):
        n = count(a, b)
        if n <= limit:
            units.append((a, b, n))
        else:
            units.extend(_split_long(text, a, b, tokens, limit))

    chunks: list[tuple[int, int]] = []
    i = 0
    while i < len(units):
        j, total = i, 0
        while j < len(units) and (j == i or total + units[j][2] <= limit):
            total += units[j][2]
            j += 1
        chunks.append((units[i][0], units[j - 1][1]))
        if j >= len(units):
            break
        # Start the next chunk with trailing sentences of this one, up to the overlap.
        back, kept = j, 0
        while back - 1 > i and kept + units[back - 1][2] <= overlap_tokens:
            back -= 1
            kept += units[back][2]
        i = back
    return chunks


def _split_long(
    text: str, a: int, b: int, tokens: list[tuple[int, int]], limit: int
) -> list[tuple[int, int, int]]:
    """Split one over-long sentence into pieces of at most `limit` tokens, at white space."""
    inside = [t for t in tokens if t[0] >= a and t[1] <= b]
    pieces: list[tuple[int, int, int]] = []
    i = 0
    while i < len(inside):
        j = min(i + limit, len(inside))
        if j < len(inside):
            # Back off to a token that starts a word, so no word is split between chunks.
            k = j
            while k > i + 1 and not text[inside[k][0] - 1].isspace():
                k -= 1
            if k > i + 1:
                j = k
        pieces.append((inside[i][0], inside[j - 1][1], j - i))
        i = j
    return pieces


def article_key(article: Article, signature: str) -> str:
    """Content hash of an article's text and metadata under a chunking signature."""
    h = hashlib.sha256()
    for part in (
        signature,
        article.text,
        article.title,
        article.date,
        article.publisher,
        article.author,
        article.url,
    ):
        h.update((part or "").encode("utf-8", "surrogatepass"))
        h.update(b"\0")
    return h.hexdigest()[:16]


def chunk_id(key: str, index: int) -> str:
    """Chunk ids derive from the article's content hash, so unchanged text keeps its ids."""
    return f"{key}-{index:04d}"


def chunk_article(
    article: Article,
    token_spans: TokenSpans,
    *,
    signature: str,
    chunk_tokens: int = 128,
    overlap_tokens: int = 32,
    max_tokens: int = 254,
) -> list[Chunk]:
    """The chunks of one article, with ids, offsets and metadata."""
    key = article_key(article, signature)
    spans = chunk_spans(
        article.text,
        token_spans,
        body_start=article.body_start,
        chunk_tokens=chunk_tokens,
        overlap_tokens=overlap_tokens,
        max_tokens=max_tokens,
    )
    return [
        Chunk(
            id=chunk_id(key, i),
            article_id=key,
            source=article.source,
            index=i,
            text=article.text[a:b],
            start=a,
            end=b,
            title=article.title,
            date=article.date,
            publisher=article.publisher,
            author=article.author,
            page=article.page_at(a),
        )
        for i, (a, b) in enumerate(spans)
    ]


def signature(embedder_name: str, chunk_tokens: int, overlap_tokens: int) -> str:
    """What chunk ids depend on besides the text: change any of it and articles re-chunk."""
    return f"{embedder_name}|{chunk_tokens}|{overlap_tokens}|{SPLITTER_VERSION}"


def longest(chunks: Sequence[Chunk], token_spans: TokenSpans) -> int:
    """Word pieces in the longest chunk, counted afresh (used to prove nothing is cut)."""
    return max((len(token_spans(c.text)) for c in chunks), default=0)
