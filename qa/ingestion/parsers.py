"""Parsers for the file formats `qa.ingestion.loaders` reads: decoded content in, Article records
out.

This module holds the plain text, Markdown and HTML parsers; PDF is in `qa.ingestion.parsers_pdf`,
JSON and JSON Lines in `qa.ingestion.parsers_json`, and what they all share (titles, dates, header
fields, `FormatError`) in `qa.ingestion.article_fields`.

Each parser gets one file's content (text, or bytes for PDF) and the source name to give its
articles, and raises `FormatError` with the reason when the content is unusable. Parsers know
nothing of paths, sizes or encodings; `qa.ingestion.loaders` deals with those.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import yaml

from qa.ingestion.article_fields import (
    FormatError,
    _body_start,
    _field,
    normalize_date,
    title_from_text,
)
from qa.types import Article

if TYPE_CHECKING:
    from bs4 import BeautifulSoup, PageElement, Tag

logger = logging.getLogger(__name__)

# --- plain text and Markdown ------------------------------------------------------------------

_TXT_HEADER = re.compile(
    r"[ \t]*date:?[ \t]+(?P<date>[^\r\n]+?)"
    r"(?:[ \t]+By[ \t]+(?P<publisher>[^\r\n]+?))?[ \t]*(?:\r?\n|$)"
)
_BYLINE = re.compile(r"\s*By[ \t]+(?P<author>[^\r\n]{1,60}?)[ \t]*(?:\r?\n|$)")


def parse_txt(text: str, source: str) -> Article:
    """A text article, with the seed corpus's optional header.

    The header is a first line ` date 2020-04-01 By Publisher`, optionally followed by a line
    `By Author Name`; without a parseable date on the first line the whole file is the body.
    """
    publisher = author = None
    pos = 0
    header = _TXT_HEADER.match(text)
    published = normalize_date(header["date"]) if header else None
    if header and published:
        publisher, pos = header["publisher"], header.end()
        byline = _BYLINE.match(text, pos)
        name = byline["author"] if byline else ""
        if byline and len(name.split()) <= 6 and not name.endswith((".", ",", ";", ":", "!", "?")):
            author, pos = name, byline.end()
    body_start = _body_start(text, pos)
    if body_start == len(text):
        raise FormatError("no text (only a header)" if pos else "no text (only whitespace)")
    return Article(
        source=source,
        text=text,
        title=title_from_text(text[body_start:]),
        date=published,
        publisher=publisher,
        author=author,
        body_start=body_start,
    )


_FRONT_OPEN = re.compile(r"---[ \t]*\r?\n")
_FRONT_CLOSE = re.compile(r"^(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.MULTILINE)
_ATX_H1 = re.compile(r"^#[ \t]+(?P<title>.+?)[ \t#]*$", re.MULTILINE)
_SETEXT_H1 = re.compile(r"^(?P<title>[^\n]*\S[^\n]*)\r?\n=+[ \t]*\r?$", re.MULTILINE)


def _front_matter(text: str, source: str) -> tuple[Mapping[Any, Any], int]:
    """The YAML front matter of a Markdown file and the offset after it ({} and 0 if none)."""
    opening = _FRONT_OPEN.match(text)
    closing = _FRONT_CLOSE.search(text, opening.end()) if opening else None
    if opening is None or closing is None:
        return {}, 0
    try:
        meta = yaml.safe_load(text[opening.end() : closing.start()])
    except (yaml.YAMLError, ValueError, TypeError, RecursionError) as e:
        logger.warning("%s: front matter ignored, it is not valid YAML (%s)", source, e)
        return {}, 0
    if meta is None:
        return {}, closing.end()
    if not isinstance(meta, Mapping):
        logger.warning("%s: front matter ignored, it is not a mapping of keys", source)
        return {}, 0
    return meta, closing.end()


def parse_markdown(text: str, source: str) -> Article:
    """A Markdown article: metadata from YAML front matter, title else from the first heading."""
    meta, end = _front_matter(text, source)
    body_start = _body_start(text, end)
    if body_start == len(text):
        raise FormatError("no text (only front matter)" if end else "no text (only whitespace)")
    body = text[body_start:]
    heading = _ATX_H1.search(body) or _SETEXT_H1.search(body)
    title = _field(meta, "title") or (heading["title"].strip() if heading else None)
    return Article(
        source=source,
        text=text,
        title=title or title_from_text(body),
        date=normalize_date(meta.get("date")),
        publisher=_field(meta, "publisher", "source", "site"),
        author=_field(meta, "author", "authors"),
        url=_field(meta, "url", "link"),
        body_start=body_start,
    )


# --- HTML -------------------------------------------------------------------------------------

# fmt: off
_SKIP_TAGS = frozenset((
    "script", "style", "noscript", "nav", "header", "footer", "aside", "form", "template",
    "svg", "iframe", "button", "select", "head", "title",
))
_BLOCK_TAGS = frozenset((
    "address", "article", "blockquote", "body", "caption", "dd", "details", "dialog", "div",
    "dl", "dt", "fieldset", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6",
    "hgroup", "hr", "li", "main", "ol", "p", "pre", "section", "summary", "table", "tr", "ul",
))
_DATE_META = (
    "article:published_time", "og:published_time", "datepublished", "date", "pubdate",
    "publishdate", "dc.date", "dc.date.issued", "dcterms.date", "dcterms.created",
    "sailthru.date", "parsely-pub-date",
)
# fmt: on


def _meta_tags(soup: BeautifulSoup) -> dict[str, str]:
    """`<meta>` contents by lower-cased property, name or itemprop (the first one wins)."""
    found: dict[str, str] = {}
    for tag in soup.find_all("meta"):
        key = tag.get("property") or tag.get("name") or tag.get("itemprop")
        content = tag.get("content")
        if isinstance(key, str) and isinstance(content, str) and content.strip():
            found.setdefault(key.strip().lower(), " ".join(content.split()))
    return found


def _html_text(root: Tag) -> str:
    """The readable text under `root`: blocks separated by blank lines, `<br>` by newlines."""
    from bs4 import NavigableString, Script, Stylesheet, Tag, TemplateString
    from bs4.element import PreformattedString

    pieces: list[str] = []
    # An explicit stack rather than recursion: real pages nest deeper than Python's limit.
    stack: list[tuple[Iterator[PageElement], str]] = [(iter(root.children), "")]
    while stack:
        children, closing = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            pieces.append(closing)
        elif isinstance(child, Tag) and child.name not in _SKIP_TAGS:
            if child.name == "br":
                pieces.append("\n")
                continue
            gap = "\n\n" if child.name in _BLOCK_TAGS else " " if child.name in ("td", "th") else ""
            pieces.append(gap)
            stack.append((iter(child.children), gap))
        elif isinstance(child, NavigableString) and not isinstance(
            child, (PreformattedString, Script, Stylesheet, TemplateString)
        ):
            pieces.append(re.sub(r"\s+", " ", str(child)))
    paragraphs = []
    for block in re.split(r"\n{2,}", "".join(pieces)):
        lines = (" ".join(line.split()) for line in block.split("\n"))
        paragraphs.append("\n".join(line for line in lines if line))
    return "\n\n".join(p for p in paragraphs if p)


def _first_text(soup: BeautifulSoup, *names: str) -> str | None:
    for name in names:
        tag = soup.find(name)
        text = " ".join(tag.get_text(" ").split()) if tag is not None else ""
        if text:
            return text
    return None


def parse_html(text: str, source: str) -> Article:
    """An HTML page: main text and metadata through trafilatura (`qa.ingestion.html_page`).

    What trafilatura does not find is read as before: metadata from `<meta>` tags, the text
    from `<article>`, `<main>` or `<body>` taken whole.
    """
    from bs4 import BeautifulSoup, Tag  # late: importing bs4 takes a tenth of a second
    from bs4.exceptions import ParserRejectedMarkup

    from qa.ingestion.html_page import read_page

    try:
        soup = BeautifulSoup(text, "html.parser")
    except ParserRejectedMarkup as e:
        raise FormatError(f"unreadable HTML ({e})") from e
    meta = _meta_tags(soup)
    page = read_page(text, source)
    candidates = [soup.find("article"), soup.find("main"), soup.body, soup]
    texts = (_html_text(node) for node in candidates if isinstance(node, Tag))
    body = page.text or next((t for t in texts if t), "")
    if not body:
        raise FormatError("no readable text (only scripts/markup)")
    times = [t.get("datetime") for t in soup.find_all("time")]
    dates = (normalize_date(v) for v in [*(meta.get(k) for k in _DATE_META), *times])
    canonical = soup.find("link", rel="canonical")
    links = {"canonical": canonical.get("href") if isinstance(canonical, Tag) else None}
    author = _field(meta, "author", "article:author", "dc.creator", "byl", "parsely-author")
    return Article(
        source=source,
        text=body,
        title=page.title
        or _field(meta, "og:title", "twitter:title")
        or _first_text(soup, "title", "h1")
        or title_from_text(body),
        date=normalize_date(page.date) or next((d for d in dates if d), None),
        publisher=page.publisher
        or _field(meta, "og:site_name", "publisher", "dc.publisher", "application-name"),
        author=page.author
        or (None if author is None or author.startswith("http") else author.removeprefix("By ")),
        url=page.url or _field(links, "canonical") or _field(meta, "og:url"),
    )
