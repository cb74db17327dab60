"""HTML for the chat UI: answers (the short answer in bold, the verdict in words, the quote
with linked [n] markers, the sides of a disagreement) and source cards; the library's forms
and reports are in `qa.ui.forms`.

Pure functions over `qa.types` records, kept apart from `qa.ui.app` so they are tested without
Gradio; the styles for their classes are in `qa.ui.style`. Every piece of article or user text
goes through `escape()` before it is placed in HTML: an article containing `<script>` or
`<img onerror=...>` is shown as text, never run. The answer HTML has no blank lines, so the
chatbot's Markdown renderer passes it through as one HTML block instead of interpreting `*`,
`_` or `$$` in article text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from pathlib import PurePosixPath, PureWindowsPath

from qa.types import WELL_SUPPORTED, Answer, Citation

MARKER = re.compile(r"\[(\d{1,3})\]")


def escape(text: str) -> str:
    """`text` as HTML text: `<`, `>`, `&` and quotes become entities; newlines become `<br>`."""
    return html.escape(text, quote=True).replace("\r\n", "\n").replace("\n", "<br>")


def source_id(turn: int, n: int) -> str:
    """The element id of citation `n`'s card for the `turn`-th answer (`src-2-1`)."""
    return f"src-{turn}-{n}"


def link_markers(escaped_text: str, turn: int, numbers: Sequence[int]) -> str:
    """Turn the `[n]` markers of already escaped text into links to their source cards.

    Only numbers in `numbers` (the answer's citations) become links; any other bracketed
    number, e.g. one quoted from an article, stays plain text.
    """
    known = set(numbers)

    def link(m: re.Match[str]) -> str:
        n = int(m.group(1))
        if n not in known:
            return m.group(0)
        target = source_id(turn, n)
        return f'<a class="qa-cite" href="#{target}" title="Show source {n}">[{n}]</a>'

    return MARKER.sub(link, escaped_text)


def format_partial(text: str) -> str:
    """The answer while it streams in: escaped text and a cursor."""
    return (
        f'<div class="qa-answer qa-streaming">{escape(text)}<span class="qa-cursor">▍</span></div>'
    )


def format_waiting() -> str:
    """Under a question sent but not being answered yet (one before it is)."""
    return '<div class="qa-waiting">Waiting to be answered.</div>'


def verdict_kind(answer: Answer) -> str:
    """The CSS class of `answer.verdict`: qa-well, qa-weak, qa-none or qa-near-miss."""
    if answer.near_miss:
        return "qa-near-miss"
    if not answer.answered:
        return "qa-none"
    if answer.conflicts:
        return "qa-conflict"
    return "qa-well" if answer.confidence >= WELL_SUPPORTED else "qa-weak"


def format_head(answer: Answer) -> str:
    """The line above the answer: the short answer in bold, then the verdict in words.

    The confidence is shown, in small print, only for an answer: for an abstention it is that
    of a sentence that was refused. For a near miss the verdict is the label that says the
    quote below is not the answer.
    """
    parts = ['<div class="qa-head">']
    if answer.answered and answer.short:
        parts.append(f'<strong class="qa-short">{escape(answer.short)}</strong>')
    parts.append(f'<span class="qa-verdict {verdict_kind(answer)}">{escape(answer.verdict)}</span>')
    if answer.answered:
        parts.append(f'<span class="qa-confidence">confidence {answer.confidence:.2f}</span>')
    parts.append("</div>")
    return "".join(parts)


def format_cited(citation: Citation, turn: int) -> str:
    """One line naming a citation's source under the answer: [n] title · publisher · date."""
    link = link_markers(f"[{citation.n}]", turn, [citation.n])
    names = [escape(x) for x in (citation.title, citation.publisher, citation.date) if x]
    return f'<div class="qa-cited">{link} {" · ".join(names)}</div>'


def format_sides(answer: Answer, turn: int) -> str:
    """The sides of a disagreement one above the other, newest first: what each says, in
    bold, then its outlet and date and its [n] link."""
    rows = []
    for side in answer.conflicts:
        link = link_markers(f"[{side.n}]", turn, [side.n])
        names = " · ".join(escape(x) for x in (side.publisher or side.source, side.date) if x)
        rows.append(
            f'<div class="qa-side"><strong class="qa-side-short">{escape(side.short)}</strong> '
            f'<span class="qa-side-source">{names}</span> {link}</div>'
        )
    return f'<div class="qa-sides">{"".join(rows)}</div>'


def format_answer(answer: Answer, turn: int) -> str:
    """The chat message for a finished answer.

    The short answer and the verdict (`format_head`), the text with linked [n] markers (or
    the plain "the corpus does not say" sentence), the source of each citation, any notice,
    the sentences the grounding check removed (collapsed), and the query searched.
    """
    body = link_markers(escape(answer.text), turn, [c.n for c in answer.citations])
    kind = "qa-answer"
    if not answer.answered:
        kind += " qa-abstain qa-near-miss" if answer.near_miss else " qa-abstain"
    parts = [f'<div class="{kind}">', format_head(answer), f'<div class="qa-text">{body}</div>']
    if answer.conflicts:
        parts.append(format_sides(answer, turn))
    parts.extend(format_cited(c, turn) for c in answer.citations)
    if answer.notice:
        parts.append(f'<div class="qa-notice">{escape(answer.notice)}</div>')
    if answer.removed:
        count = len(answer.removed)
        noun = "sentence" if count == 1 else "sentences"
        items = "".join(
            f"<li>{escape(r.sentence)} <span class='qa-reason'>({escape(r.reason)})</span></li>"
            for r in answer.removed
        )
        parts.append(
            f'<details class="qa-removed"><summary>{count} unsupported {noun} removed</summary>'
            f"<ul>{items}</ul></details>"
        )
    if answer.query:
        parts.append(f'<div class="qa-query">Searched for: {escape(answer.query)}</div>')
    parts.append("</div>")
    return "".join(parts)


def format_error(message: str) -> str:
    """A chat message for a question that could not be answered because something failed."""
    return f'<div class="qa-answer qa-error">{escape(message)}</div>'


def format_question(question: str) -> str:
    """The user's message, escaped like everything else."""
    return f'<div class="qa-question">{escape(question)}</div>'


def highlight(citation: Citation) -> str:
    """The cited passage, escaped, with the quoted span wrapped in `<mark>`.

    Uses the citation's offsets; if they do not point at the quote inside the passage it
    searches for the quote, and failing that shows the quote alone, marked.
    """
    passage, quote = citation.passage, citation.quote
    start = citation.start - citation.passage_start
    end = start + len(quote)
    if not (start >= 0 and end <= len(passage) and passage[start:end] == quote):
        start = passage.find(quote) if quote else -1
        if start < 0:
            return f"<mark>{escape(quote)}</mark>"
        end = start + len(quote)
    before, marked, after = passage[:start], passage[start:end], passage[end:]
    return f"{escape(before)}<mark>{escape(marked)}</mark>{escape(after)}"


def display_file(source: str) -> str:
    """How a source file is named to users: relative paths as they are, absolute ones by name.

    Absolute paths (uploads live under the data folder) would tell every user where the
    server keeps its files.
    """
    for kind in (PurePosixPath, PureWindowsPath):
        path = kind(source)
        if path.is_absolute():
            return path.name
    return source


def format_source_card(citation: Citation, turn: int) -> str:
    """One source: [n], title, publisher · date · file (p. N), and the highlighted passage."""
    meta = [escape(x) for x in (citation.publisher, citation.date) if x]
    file = escape(display_file(citation.source))
    if citation.page is not None:
        file += f", p.&nbsp;{citation.page}"
    meta.append(f'<span class="qa-file">{file}</span>')
    return (
        f'<div class="qa-source" id="{source_id(turn, citation.n)}">'
        f'<div class="qa-source-head"><span class="qa-n">[{citation.n}]</span> '
        f'<span class="qa-title">{escape(citation.title)}</span></div>'
        f'<div class="qa-meta">{" · ".join(meta)}</div>'
        f'<blockquote class="qa-passage">{highlight(citation)}</blockquote>'
        "</div>"
    )


def format_sources(answer: Answer, turn: int) -> str:
    """The source cards of one answer (or a line saying there are none)."""
    if not answer.citations:
        return '<div class="qa-no-sources">No sources: the corpus does not answer this.</div>'
    return "".join(format_source_card(c, turn) for c in answer.citations)


def format_sources_panel(turns: Sequence[tuple[str, str]]) -> str:
    """The sources panel: the latest answer's sources open, earlier ones collapsed.

    Args:
        turns: (question, sources HTML from `format_sources`) per answered turn, oldest first.
    """
    if not turns:
        return (
            '<div class="qa-sources-empty">Ask a question: the passages each answer rests on '
            "appear here, the quoted words highlighted.</div>"
        )
    *earlier, (question, latest) = turns
    parts = [
        '<div class="qa-sources">',
        f'<div class="qa-sources-for">Sources for: {escape(question)}</div>',
        latest,
    ]
    for q, sources in reversed(earlier):
        parts.append(
            f'<details class="qa-earlier"><summary>Earlier: {escape(q)}</summary>'
            f"{sources}</details>"
        )
    parts.append("</div>")
    return "".join(parts)
