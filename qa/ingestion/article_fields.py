"""What every parser shares: `FormatError`, a title from an article's first sentence, a date in
any spelling as YYYY-MM-DD, and the first non-empty of several header fields.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from dateutil import parser as dateparser

TITLE_MAX_CHARS = 80


class FormatError(ValueError):
    """The content cannot be read as its format; the message is the reason."""


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
