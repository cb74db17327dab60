"""Find article files and load them into Article records.

`find_files` (from `qa.ingestion.files`) turns the paths a user names into the files to load
(folders walked in sorted order) plus Problems for what cannot be loaded; `load_file` reads one file
into its articles plus per-record Problems, and raises `LoadError` when the whole file is
unusable.

Example:
    >>> files, problems = find_files([Path("corpus")])
    >>> articles, record_problems = load_file(files[0])

For `.txt` and `.md` files `Article.text` is the whole decoded file, unchanged (a UTF-8 BOM is
dropped; line endings are kept as they are), so every quote `text[start:end]` is in the file.
"""

from __future__ import annotations

import codecs
import logging
import re
import stat
from pathlib import Path

from qa.ingestion.article_fields import FormatError, normalize_date, title_from_text
from qa.ingestion.files import (
    SUPPORTED_SUFFIXES,
    _stat_problem,
    _unsupported,
    display_source,
    find_files,
)
from qa.ingestion.parsers import parse_html, parse_markdown, parse_txt
from qa.ingestion.parsers_json import parse_json, parse_jsonl
from qa.ingestion.parsers_pdf import parse_pdf
from qa.types import Article, Problem

__all__ = [
    "DEFAULT_MAX_BYTES",
    "SUPPORTED_SUFFIXES",
    "LoadError",
    "display_source",
    "find_files",
    "load_file",
    "normalize_date",
    "title_from_text",
]

logger = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 20_000_000


class LoadError(Exception):
    """A whole file could not be loaded; `reason` says why."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(source, reason)  # both in args, so the error survives pickling
        self.source = source
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.source}: {self.reason}"


# --- reading and decoding ---------------------------------------------------------------------


def _read(path: Path, source: str, max_bytes: int) -> bytes:
    def too_big(size: int) -> LoadError:
        return LoadError(
            source,
            f"{size / 1e6:.1f} MB is over the {max_bytes / 1e6:g} MB limit; "
            "raise it with --max-file-mb",
        )

    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise LoadError(source, "is a folder, not a file (use find_files to list its files)")
        if not stat.S_ISREG(info.st_mode):
            raise LoadError(source, "not a regular file")  # opening a FIFO would block
        if info.st_size > max_bytes:
            raise too_big(info.st_size)
        with path.open("rb") as f:
            data = f.read(max_bytes + 1)
    except OSError as e:
        raise LoadError(source, _stat_problem(path, e)) from e
    if len(data) > max_bytes:  # the file grew since stat()
        raise too_big(len(data))
    if not data:
        raise LoadError(source, "empty file")
    return data


_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE, whose BOM is a prefix of this one
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")
_MAX_CONTROL_SHARE = 0.05


def _detect_encoding(data: bytes) -> str:
    """The legacy encoding of non-UTF-8 `data`, preferring cp1252 among equally good ones."""
    from charset_normalizer import from_bytes  # late: only non-UTF-8 files need it

    # Without a BOM or NUL bytes the text cannot be UTF-16/32, whatever the detector says.
    matches = [m for m in from_bytes(data) if not m.encoding.startswith(("utf_16", "utf_32"))]
    if not matches:
        raise FormatError("binary data, not text (no text encoding fits)")
    least = min(m.chaos for m in matches)
    calm = [m for m in matches if m.chaos <= least]
    # Short Western texts fit cp1250 as well as cp1252 ("très" vs "trčs"): prefer the common one.
    if any("cp1252" in m.could_be_from_charset for m in calm):
        return "cp1252"
    return calm[0].encoding


def _decode_legacy(data: bytes, source: str) -> str:
    """Decode bytes that are not valid UTF-8, logging which encoding was used."""
    lenient = data.decode("utf-8", errors="replace")
    broken = lenient.count("\ufffd")
    valid_non_ascii = len(lenient) - len(lenient.encode("ascii", "ignore")) - broken
    if valid_non_ascii >= broken:  # UTF-8 with a few damaged bytes, not a legacy encoding
        logger.warning("%s: %d invalid UTF-8 byte sequence(s) shown as U+FFFD", source, broken)
        return lenient
    encoding = _detect_encoding(data)
    logger.warning("%s: not UTF-8; decoded as %s", source, encoding)
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as e:
        raise FormatError(f"not UTF-8 and not {encoding} ({e.reason} at byte {e.start})") from e


def _decode_text(data: bytes, source: str) -> str:
    """Text from bytes: UTF-8 (BOM dropped), UTF-16/32 with a BOM, else the detected encoding.

    Raises:
        FormatError: the bytes are not text (NUL bytes, mostly control characters).
    """
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return _not_binary(data.decode(codec))
            except UnicodeDecodeError as e:
                raise FormatError(f"invalid {codec.upper()} text ({e.reason})") from e
    data = data.removeprefix(codecs.BOM_UTF8)
    nul = data.find(b"\x00")
    if nul >= 0:
        raise FormatError(f"binary data, not text (NUL byte at offset {nul})")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = _decode_legacy(data, source)
    return _not_binary(text)


def _not_binary(text: str) -> str:
    controls = sum(1 for _ in _CONTROL.finditer(text))
    if controls > _MAX_CONTROL_SHARE * len(text):
        share = 100 * controls / len(text)
        raise FormatError(f"binary data, not text ({share:.0f}% control characters)")
    return text


# --- loading ----------------------------------------------------------------------------------


def _parse(suffix: str, data: bytes, source: str) -> tuple[list[Article], list[Problem]]:
    if suffix == ".pdf":
        article, problems = parse_pdf(data, source)
        return [article], problems
    text = _decode_text(data, source)
    if suffix == ".json":
        return parse_json(text, source)
    if suffix == ".jsonl":
        return parse_jsonl(text, source)
    if suffix in (".html", ".htm"):
        return [parse_html(text, source)], []
    if suffix in (".md", ".markdown"):
        return [parse_markdown(text, source)], []
    return [parse_txt(text, source)], []


def load_file(
    path: Path, *, source: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES
) -> tuple[list[Article], list[Problem]]:
    """The articles in one file, plus a Problem for each record or page that was skipped.

    Args:
        path: The file; its suffix (one of SUPPORTED_SUFFIXES) chooses the format.
        source: The name given to its articles (default: `display_source(path)`); JSON
            records are named `source#n`.
        max_bytes: Larger files are refused without being read.

    Raises:
        LoadError: The whole file is unusable: unreadable, empty, too big, binary, not its
            format, or without any text.
    """
    source = display_source(path) if source is None else source
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise LoadError(source, _unsupported(path.suffix))
    data = _read(path, source, max_bytes)
    try:
        return _parse(suffix, data, source)
    except FormatError as e:
        raise LoadError(source, str(e)) from e
