"""Parsers for the file formats `qa.loaders` reads: decoded content in, Article records out.

Each parser gets one file's content (text, or bytes for PDF) and the source name to give its
articles, and raises `FormatError` with the reason when the content is unusable. Parsers know
nothing of paths, sizes or encodings; `qa.loaders` deals with those.
"""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import yaml
from dateutil import parser as dateparser

from qa.types import Article, Problem

if TYPE_CHECKING:
    from bs4 import BeautifulSoup, PageElement, Tag
    from pypdf import PdfReader

logger = logging.getLogger(__name__)

TITLE_MAX_CHARS = 80


class FormatError(ValueError):
    """The content cannot be read as its format; the message is the reason."""


# --- titles and dates -------------------------------------------------------------------------

_SENTENCE_END = re.compile(r"[.!?][\"'”’)\]]*(?=\s|$)")
# fmt: off
_ABBREVIATIONS = frozenset((
    "mr", "mrs", "ms", "dr", "prof", "st", "jr", "sr", "gen", "col", "lt", "sen", "rep", "gov",
    "inc", "ltd", "co", "corp", "vs", "etc",
))
# fmt: on
_NON_BLANK = re.compile(r"\S")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t\r\f\v]*\n")


def title_from_text(text: str) -> str:
    """The first sentence of `text`, shortened to at most 80 characters at a word boundary.

    Example:
        >>> title_from_text("Markets fell sharply on Monday. Analysts blamed rates.")
        'Markets fell sharply on Monday'
    """
    start = _NON_BLANK.search(text)
    if start is None:
        return ""
    head = _PARAGRAPH_BREAK.split(text[start.start() : start.start() + 1000], maxsplit=1)[0]
    sentence = " ".join(head.split())
    for end in _SENTENCE_END.finditer(sentence):
        last_word = sentence[: end.start()].rsplit(" ", 1)[-1]
        if last_word.lower() in _ABBREVIATIONS or re.fullmatch(r"(?:[A-Z]\.)*[A-Z]", last_word):
            continue  # "Mr. Smith", "U.S. troops": not the end of the sentence
        sentence = sentence[: end.end()]
        break
    if len(sentence) <= TITLE_MAX_CHARS:
        return re.sub(r"(?<=\w)\.$", "", sentence)
    cut = sentence[: TITLE_MAX_CHARS - 1]
    space = cut.rfind(" ")
    if space > TITLE_MAX_CHARS // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:-–—") + "…"


_DEFAULT_A = datetime(2000, 1, 1)
_DEFAULT_B = datetime(2001, 2, 2)


def normalize_date(value: object) -> str | None:
    """`value` as YYYY-MM-DD, or None when it is not a full date (year, month and day).

    Ambiguous numeric dates are read month first ("01/04/2020" is 2020-01-04); a time zone
    does not shift the date. PDF dates ("D:20200401...") are understood.
    """
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if not isinstance(value, str) or not value.strip() or len(value) > 64:
        return None
    text = value.strip()
    pdf_date = re.fullmatch(r"D:(\d{4})(\d{2})(\d{2}).*", text)
    if pdf_date:
        text = "-".join(pdf_date.groups())
    try:
        # Two defaults: a part missing from `text` (e.g. the day) shows as a difference.
        first = dateparser.parse(text, default=_DEFAULT_A)
        second = dateparser.parse(text, default=_DEFAULT_B)
    except (ValueError, OverflowError, TypeError):
        return None
    if first.date() != second.date():
        return None
    return first.date().isoformat()


def _field(record: Mapping[Any, Any], *keys: str) -> str | None:
    """The first of `keys` holding a non-empty string (a list of strings is joined)."""
    for key in keys:
        value = record.get(key)
        if isinstance(value, Mapping):  # {"source": {"name": "Reuters"}}
            value = value.get("name")
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            value = ", ".join(v.strip() for v in value if v.strip())
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _body_start(text: str, pos: int) -> int:
    """The offset of the first non-blank character at or after `pos` (len(text) if none)."""
    found = _NON_BLANK.search(text, pos)
    return found.start() if found else len(text)


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
    """An HTML page: main text and metadata through trafilatura (`qa.html_page`).

    What trafilatura does not find is read as before: metadata from `<meta>` tags, the text
    from `<article>`, `<main>` or `<body>` taken whole.
    """
    from bs4 import BeautifulSoup, Tag  # late: importing bs4 takes a tenth of a second
    from bs4.exceptions import ParserRejectedMarkup

    from qa.html_page import read_page

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


# --- PDF --------------------------------------------------------------------------------------


def parse_pdf(data: bytes, source: str) -> tuple[Article, list[Problem]]:
    """A PDF's text, pages joined by a blank line, with `page_starts` and its metadata.

    Pages whose text cannot be extracted are reported as Problems and left empty.
    """
    if b"%PDF-" not in data[:1024]:
        raise FormatError(f"not a PDF (starts with {data[:16]!r})")
    from pypdf import PasswordType, PdfReader  # late: importing pypdf takes a quarter second
    from pypdf.errors import DependencyError, FileNotDecryptedError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
            raise FormatError("encrypted PDF; decrypt it first")
        pages = list(reader.pages)
    except (DependencyError, FileNotDecryptedError) as e:
        raise FormatError(f"encrypted PDF; decrypt it first ({e})") from e
    except FormatError:
        raise
    except Exception as e:  # pypdf raises many exception types on damaged files
        raise FormatError(f"corrupt PDF ({type(e).__name__}: {e})") from e
    problems: list[Problem] = []
    texts: list[str] = []
    for n, page in enumerate(pages, start=1):
        try:
            texts.append(page.extract_text().strip())
        except Exception as e:  # as above: a damaged page must not lose the others
            problems.append(Problem(source, f"page {n}: text not extracted ({e})"))
            texts.append("")
    text = "\n\n".join(texts)
    if not text.strip():
        raise FormatError("no extractable text (scanned PDF?)")
    starts = [0]
    for page_text in texts[:-1]:
        starts.append(starts[-1] + len(page_text) + 2)
    title, author, created = _pdf_metadata(reader, source)
    return Article(
        source=source,
        text=text,
        title=title or title_from_text(text),
        date=normalize_date(created),
        author=author,
        page_starts=tuple(starts),
    ), problems


def _pdf_metadata(reader: PdfReader, source: str) -> tuple[str | None, str | None, str | None]:
    """Title, author and raw creation date from a PDF's info dictionary, when present."""
    try:
        info = reader.metadata
        if info is None:
            return None, None, None
        created = info.get("/CreationDate")
        values = {"title": info.title, "author": info.author, "created": created}
    except Exception as e:  # metadata is optional; a damaged info dictionary must not lose text
        logger.warning("%s: PDF metadata ignored (%s)", source, e)
        return None, None, None
    return _field(values, "title"), _field(values, "author"), _field(values, "created")


# --- JSON and JSON Lines ----------------------------------------------------------------------

_TEXT_KEYS = ("text", "body", "content")


def _json_type(value: object) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "true/false"}
    if value is None:
        return "null"
    return names.get(type(value), "a number")


def _record_article(record: object, source: str) -> Article:
    if not isinstance(record, dict):
        raise FormatError(f"{_json_type(record)}, not an object")
    present = [key for key in _TEXT_KEYS if key in record]
    if not present:
        raise FormatError("no 'text' or 'body' field")
    body = next(
        (record[k] for k in present if isinstance(record[k], str) and record[k].strip()), None
    )
    if body is None:
        value = record[present[0]]
        kind = "empty" if isinstance(value, str) else f"{_json_type(value)}, not a string"
        raise FormatError(f"'{present[0]}' is {kind}")
    return Article(
        source=source,
        text=body,
        title=_field(record, "title", "headline") or title_from_text(body),
        date=next(filter(None, map(normalize_date, (record.get(k) for k in _DATE_KEYS))), None),
        publisher=_field(record, "publisher", "source", "site", "site_name"),
        author=_field(record, "author", "authors", "byline"),
        url=_field(record, "url", "link"),
    )


_DATE_KEYS = ("date", "published", "published_at", "publish_date", "pubdate")


def _articles(records: Iterable[object], source: str) -> tuple[list[Article], list[Problem]]:
    """One Article per usable record (source `file#n`), one Problem per unusable one."""
    articles: list[Article] = []
    problems: list[Problem] = []
    for n, record in enumerate(records, start=1):
        try:
            articles.append(_record_article(record, f"{source}#{n}"))
        except FormatError as e:
            problems.append(Problem(source, f"record {n}: {e}"))
    return articles, problems


def _no_records(problems: list[Problem]) -> FormatError:
    if not problems:
        return FormatError("no records")
    more = f"; {len(problems) - 1} more" if len(problems) > 1 else ""
    return FormatError(f"no usable records ({problems[0].reason}{more})")


def parse_json(text: str, source: str) -> tuple[list[Article], list[Problem]]:
    """A JSON record, a list of records, or `{"articles": [...]}`; record n is `file#n`."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as e:
        raise FormatError(f"invalid JSON ({e})") from e
    if isinstance(data, dict) and isinstance(data.get("articles"), list):
        data = data["articles"]
    elif not isinstance(data, (dict, list)):
        raise FormatError(
            f'expected an object, a list or {{"articles": [...]}}, not {_json_type(data)}'
        )
    articles, problems = _articles(data if isinstance(data, list) else [data], source)
    if not articles:
        raise _no_records(problems)
    return articles, problems


def _json_line(line: str) -> object:
    try:
        return json.loads(line)
    except json.JSONDecodeError as e:
        raise FormatError(f"invalid JSON ({e.msg} at column {e.colno})") from e
    except (ValueError, RecursionError) as e:  # huge integers, deep nesting
        raise FormatError(f"invalid JSON ({e})") from e


def parse_jsonl(text: str, source: str) -> tuple[list[Article], list[Problem]]:
    """One JSON record per line (blank lines ignored); the record on line n is `file#n`."""
    articles: list[Article] = []
    problems: list[Problem] = []
    # Split on "\n" only: JSON strings may hold U+2028 and friends, which splitlines() splits on.
    for n, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            articles.append(_record_article(_json_line(line), f"{source}#{n}"))
        except FormatError as e:
            problems.append(Problem(source, f"line {n}: {e}"))
    if not articles:
        raise _no_records(problems)
    return articles, problems
