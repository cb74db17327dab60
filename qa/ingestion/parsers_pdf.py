"""The PDF parser: a PDF's text page by page, with its metadata (see `qa.ingestion.parsers`)."""

from __future__ import annotations

import io
import logging
from typing import TYPE_CHECKING

from qa.ingestion.article_fields import FormatError, _field, normalize_date, title_from_text
from qa.types import Article, Problem

if TYPE_CHECKING:
    from pypdf import PdfReader

logger = logging.getLogger(__name__)


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
    return (
        _field(values, "title"),
        _field(values, "author"),
        _field(values, "created"),
    )
