"""The main text and metadata of a saved web page, through trafilatura.

A news page saved from a browser holds more than its story: menus, a cookie banner, related
links, comments, the footer. trafilatura finds the story among them and reads the page's
metadata from `<meta>` tags and JSON-LD. `qa.ingestion.parsers.parse_html` takes what is found here
and reads the rest as before: without main text it takes `<article>`, `<main>` or `<body>` whole.

Nothing is fetched: trafilatura and htmldate only download when handed a URL, and here they are
handed the page's parsed tree.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lxml.etree import _Element

logger = logging.getLogger(__name__)

# trafilatura and the libraries it uses log their own heuristics at WARNING and ERROR
# ("discarding data: None", "empty HTML tree: None"). On qa's console (WARNING and up) they would
# read as ingest failures when qa simply reads the page another way, so they are raised to
# CRITICAL unless someone set their level already (`logging.getLogger("trafilatura")
# .setLevel(logging.DEBUG)` shows them again); qa logs what it did with the page itself.
_THEIR_LOGGERS = ("trafilatura", "htmldate", "courlan", "justext")

# trafilatura's output elements that run inside a paragraph; every other one is a block
# (p, head, item, quote, row, code, list, table, div, ...), set apart by a blank line.
_INLINE = frozenset(("hi", "ref", "del", "span", "lb", "cell", "graphic"))


@dataclass(frozen=True)
class Page:
    """What trafilatura found in a page; a field it did not find is empty."""

    text: str = ""
    """The main text: blocks separated by a blank line, line breaks kept ("" if none found)."""
    title: str | None = None
    author: str | None = None
    date: str | None = None
    publisher: str | None = None
    url: str | None = None


def read_page(html: str, source: str) -> Page:
    """The main text and the metadata trafilatura finds in `html` (the page of `source`).

    Comments, menus, related links and the like are left out. The date is the publication
    date (YYYY-MM-DD) from the page's markup, not a date guessed from its text. The text is
    "" when trafilatura cannot parse the page, finds no main text in it, or fails (logged).
    """
    # Imported here: trafilatura brings lxml, htmldate and dateparser, about 0.3 s that
    # `import qa` and `qa --help` should not pay.
    import trafilatura
    from lxml import etree
    from trafilatura.settings import Document

    for name in _THEIR_LOGGERS:
        their = logging.getLogger(name)
        if their.level == logging.NOTSET:
            their.setLevel(logging.CRITICAL)

    try:
        tree = trafilatura.load_html(html)
        if tree is None:
            logger.info("%s: trafilatura cannot parse the page as HTML", source)
            return Page()
        meta = trafilatura.extract_metadata(tree, extensive=False)
        # trafilatura drops <time> elements with their text ("meets on <time>Monday</time>"
        # would lose "Monday"); their text is kept, once the metadata has read their datetime.
        etree.strip_tags(tree, "time")
        found = trafilatura.bare_extraction(
            tree,
            favor_precision=True,  # no rescue by a whole-page dump: that brings the menus back
            include_comments=False,
            include_tables=True,
            include_links=False,
            include_images=False,
        )
    except Exception as e:  # heuristics that trip over one odd page must not lose the page
        logger.warning("%s: trafilatura failed (%s: %s)", source, type(e).__name__, e)
        return Page()
    text = _text(found.body) if isinstance(found, Document) else ""
    if not text:
        logger.info("%s: trafilatura found no main text", source)
    return Page(
        text=text,
        title=meta.title or None,
        author=meta.author.replace("; ", ", ") if meta.author else None,  # as qa joins lists
        date=meta.date or None,
        publisher=meta.sitename or None,
        url=meta.url or None,
    )


def _text(body: _Element | None) -> str:
    """The text of trafilatura's output tree: blocks separated by a blank line, `<lb>` by a
    newline, table cells by a space, white space within lines collapsed."""
    if body is None:
        return ""
    from lxml import etree

    pieces: list[str] = []
    for event, element in etree.iterwalk(body, events=("start", "end")):
        tag = element.tag if isinstance(element.tag, str) else None  # None: a comment
        if event == "start":
            if tag is not None:
                gap = "\n" if tag == "lb" else " " if tag == "cell" else ""
                pieces.append(gap if tag in _INLINE else "\n\n")
                pieces.append(_spaced(element.text))
        else:
            if tag is not None and tag not in _INLINE:
                pieces.append("\n\n")
            if element is not body:
                pieces.append(_spaced(element.tail))
    paragraphs = []
    for block in re.split(r"\n{2,}", "".join(pieces)):
        lines = (" ".join(line.split()) for line in block.split("\n"))
        paragraphs.append("\n".join(line for line in lines if line))
    return "\n\n".join(p for p in paragraphs if p)


def _spaced(text: str | None) -> str:
    return re.sub(r"\s+", " ", text) if text else ""
