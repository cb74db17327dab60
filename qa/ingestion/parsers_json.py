"""The JSON and JSON Lines parsers: one Article per record (see `qa.ingestion.parsers`)."""

from __future__ import annotations

import json
from collections.abc import Iterable

from qa.ingestion.article_fields import FormatError, _field, normalize_date, title_from_text
from qa.types import Article, Problem

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
