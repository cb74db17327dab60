"""What the sources say together: agreement, disagreement, and how current each one is.

The reader gives a span and a confidence for each passage it reads. Those it trusts (at the
threshold or above) are grouped by the fact they state (`qa.answering.facts.same_fact`). One group:
one answer, its other passages cited as support. Groups from different articles: a disagreement,
each side cited with its outlet and date, newest first. A question about the present ("who is
the current ...", "now", "latest", "still") is answered from the newest article that answers,
"as of" its date. Every answer says whom it quotes and when ("According to Azernews on 1 April
2020").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date as Date

from qa.answering.facts import same_fact

_PRESENT = re.compile(
    r"\b(?:now|nowadays|current(?:ly)?|latest|still|today|at present|presently|these days|"
    r"most recent(?:ly)?)\b|^\s*who (?:is|are)\b",
    re.IGNORECASE,
)
MAX_SUPPORT = 3
"""Citations an agreeing answer lists at most (the best first)."""


@dataclass(frozen=True)
class Found:
    """A trusted span: its passage, article offsets of its quote, its text and confidence."""

    passage: int
    quote_start: int
    quote_end: int
    short: str
    confidence: float
    source: str
    date: str | None
    publisher: str | None
    mentions: frozenset[str] = frozenset()
    """The question's names that its passage mentions (see `names`)."""


_NAME = re.compile(r"(?<![.?!]\s)(?<!^)\b[A-Z][\w'’-]*[\w]")


def names(question: str) -> frozenset[str]:
    """The question's capitalised words after its first word, lower-cased ("Kelvaro")."""
    return frozenset(m.group().lower() for m in _NAME.finditer(question.strip()))


_COMMON = frozenset(
    re.findall(
        r"\w+",
        "about after again against being before between could during every first from have many "
        "much other people person their there these those under until were what when where which "
        "while whom whose will with would years does more most some such than that this into also "
        "only said says happened number called named year time last next made make take took "
        "long been they them then your over each just like well back even here",
    )
)


def subject_terms(question: str) -> frozenset[str]:
    """What the question is about: its names ("kelvaro"); for a question without names, its
    longer words ("displaced") other than common ones and those asking about the present."""
    found = names(question)
    if found:
        return found
    words = re.findall(r"[a-z][a-z'’-]{3,}", question.lower())
    return frozenset(w for w in words if w not in _COMMON and not _PRESENT.search(w))


def mentioned(asked: frozenset[str], text: str) -> frozenset[str]:
    """Those of the question's subject terms (`subject_terms`) that `text` holds."""
    lower = text.lower()
    return frozenset(n for n in asked if n in lower)


def on_subject(found: Sequence[Found], lead: Found) -> list[Found]:
    """The spans whose passages mention every subject term of the question that `lead`'s
    does: the same event, not another one the reader also found an answer in."""
    return [f for f in found if f.mentions >= lead.mentions]


def asks_present(question: str) -> bool:
    """Whether the question asks how things stand now ("Who is the current mayor?")."""
    return bool(_PRESENT.search(question))


def groups(found: Sequence[Found]) -> list[list[Found]]:
    """The spans grouped by the fact they state, best group first, best span first in each.

    A span joins the first group whose best span states the same fact."""
    out: list[list[Found]] = []
    for f in sorted(found, key=lambda f: -f.confidence):
        for group in out:
            if same_fact(group[0].short, f.short):
                group.append(f)
                break
        else:
            out.append([f])
    return out


def disagreeing(found: Sequence[Found]) -> list[list[Found]]:
    """The groups, when at least two of them come from different articles; else []."""
    grouped = groups(found)
    if len(grouped) < 2:
        return []
    sources = [{f.source for f in g} for g in grouped]
    if all(s == sources[0] for s in sources) and len(sources[0]) == 1:
        return []  # one article saying two things is not a disagreement between sources
    return grouped


def newest_first(items: Sequence[Found]) -> list[Found]:
    """Dated spans newest first, then undated ones, each by confidence."""
    return sorted(items, key=lambda f: (f.date is None, _neg_date(f.date), -f.confidence))


def _neg_date(value: str | None) -> int:
    return -int(value.replace("-", "")) if value and value[:4].isdigit() else 0


def distinct(found: Sequence[Found]) -> list[Found]:
    """One span per quoted sentence (overlapping chunks repeat sentences): the most confident
    one, so the best span is always kept. Most confident first."""
    seen: set[tuple[str, int]] = set()
    out = []
    for f in sorted(found, key=lambda f: (-f.confidence, f.passage)):
        if (f.source, f.quote_start) not in seen:
            seen.add((f.source, f.quote_start))
            out.append(f)
    return out


def spoken_date(value: str | None) -> str:
    """ "2020-04-01" -> "1 April 2020"; a partial or other date as it is."""
    if not value:
        return ""
    try:
        d = Date.fromisoformat(value[:10])
    except ValueError:
        return value
    return f"{d.day} {d.strftime('%B')} {d.year}"


def according_to(publisher: str | None, date: str | None) -> str:
    """ "According to Azernews on 1 April 2020" (or what of it is known; "" for nothing)."""
    when = spoken_date(date)
    if publisher and when:
        return f"According to {publisher} on {when}"
    if publisher:
        return f"According to {publisher}"
    if when:
        return f"According to an article of {when}"
    return ""


def side_label(f: Found) -> str:
    """ "Azernews (1 April 2020)", naming the article when the outlet is unknown."""
    name = f.publisher or f.source.rsplit("/", 1)[-1]
    when = spoken_date(f.date)
    return f"{name} ({when})" if when else name
