"""HTML and input checks for the library and the filters: date boxes, ingest reports, problems
and messages. Pure functions, tested without Gradio; article and user text is escaped like in
`qa.ui.html`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

from qa.types import IngestReport, Problem
from qa.ui.html import display_file, escape

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_date(value: str | None, label: str) -> str | None:
    """A date filter's text box: '' -> None, '2020-04-01' -> itself, else a clear ValueError."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        if not _DATE.fullmatch(text):
            raise ValueError(text)
        dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"{label} {text!r} is not a date: write it as YYYY-MM-DD, e.g. 2020-04-01, "
            "or leave it empty"
        ) from None
    return text


def parse_date_range(date_from: str | None, date_to: str | None) -> tuple[str | None, str | None]:
    """Both date filters, validated, and in order."""
    start, end = parse_date(date_from, "Date from"), parse_date(date_to, "Date to")
    if start and end and start > end:
        raise ValueError(f"Date from ({start}) is after date to ({end}): swap them or clear one")
    return start, end


def format_problems(problems: Sequence[Problem]) -> str:
    """Each problem as an escaped 'file: reason' list item, files named by `display_file`."""
    return "".join(
        f"<li><code>{escape(display_file(p.source))}</code>: {escape(p.reason)}</li>"
        for p in problems
    )


def format_ingest_report(report: IngestReport, rejected: Sequence[Problem] = ()) -> str:
    """The upload result: the ingest summary and every failed file with its reason.

    Args:
        report: what the ingest did.
        rejected: files refused before ingest (type or size), shown with the failures.
    """
    failed = [*rejected, *report.failed]
    kind = "qa-report qa-partial" if failed else "qa-report"
    summary = report.summary()
    if rejected:
        summary += f"; {len(rejected)} refused before ingest (type or size)"
    parts = [f'<div class="{kind}"><div class="qa-summary">{escape(summary)}</div>']
    if failed:
        parts.append(
            f'<div class="qa-failed">Not ingested:<ul>{format_problems(failed)}</ul></div>'
        )
    if report.duplicates:
        parts.append(
            '<div class="qa-duplicates">Already indexed under another name:'
            f"<ul>{format_problems(report.duplicates)}</ul></div>"
        )
    parts.append("</div>")
    return "".join(parts)


def format_rejected(rejected: Sequence[Problem]) -> str:
    """The upload result when no file got as far as the ingest."""
    return (
        '<div class="qa-report qa-partial"><div class="qa-summary">Nothing ingested.</div>'
        f'<div class="qa-failed">Not ingested:<ul>{format_problems(rejected)}</ul></div></div>'
    )


def format_message(text: str, kind: str = "info") -> str:
    """A one-line status message (`kind`: info or error), escaped."""
    return f'<div class="qa-message qa-{kind}">{escape(text)}</div>'
