"""Short answers: the span of a quoted sentence that answers the question.

"In what year ...?" is answered by a year of the sentence, "How many ...?" by a count, "Which
three countries ...?" by a list of names; a span the question already holds ("NATO" for "What
did NATO reject?") is never the answer. `typed_spans()` finds the spans of a kind and also
tells the answerer whether a sentence can answer the question at all (a "when" question and a
sentence without a date); `short_answer()` picks the one nearest the question's own words.
Where no type rule applies the span reader (`qa.reader.SpanReader`) picks it (`pick_short`).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from qa.question import NUMBER_WORDS, Question
from qa.text import STOPWORDS, fold, prior_weight, tokens

_MONTH = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December|"
    r"Jan\.|Feb\.|Mar\.|Apr\.|Aug\.|Sept?\.|Oct\.|Nov\.|Dec\.)"
)
_DATE = re.compile(
    rf"\b(?:(?:early|mid|late)[- ])?(?:\d{{1,2}} )?{_MONTH}(?: \d{{1,2}}(?!\d)(?:st|nd|rd|th)?)?"
    rf"(?:,? \d{{4}})?|\b(?:the )?(?:early |mid-|late )?(?:1[0-9]|20)\d0s\b|"
    r"\b(?:1[0-9]{3}|20[0-9]{2})(?:\s*[–-]\s*(?:1[0-9]{3}|20[0-9]{2}|\d{2}))?\b|"
    r"\b\d{1,2}(?:st|nd|rd|th) century\b|\b\d{4}-\d{2}-\d{2}\b"
)
_NUMWORD = "|".join(sorted(NUMBER_WORDS - {"first", "second", "once", "twice"}, key=len)[::-1])
_NUMBER = re.compile(
    rf"(?:\$|£|€|US\$)?\b(?:\d+(?:[,.]\d+)*(?:\s*(?:%|percent|per cent))?|(?:{_NUMWORD})"
    rf"(?:[ -](?:{_NUMWORD}))*)(?:\s+(?:million|billion|thousand|hundred|trillion))?\b",
    re.IGNORECASE,
)
_CAP = r"[A-Z][\w’'.-]*[\w]"
_NAME = re.compile(
    rf"\b{_CAP}(?:\s+(?:(?:of|the|de|du|del|von|van|al|for|and|on)\s+)*{_CAP})*|\b[A-Z]\b"
)
_ITEM = rf"(?:(?:the\s+)?{_CAP}(?:\s+{_CAP})*|\d+(?:[,.]\d+)*)"
_LIST = re.compile(rf"{_ITEM}(?:\s*,\s*{_ITEM})*\s*,?\s+(?:and|or)\s+{_ITEM}")

_NAME_KINDS = ("person", "organisation", "place", "author", "publisher")


def _names(sentence: str) -> list[tuple[int, int]]:
    """Capitalised word sequences, without a sentence opener such as "The" or "In"."""
    out = []
    for m in _NAME.finditer(sentence):
        a, b = m.span()
        words = m.group().split()
        while words and fold(words[0]) in STOPWORDS | {"according", "after", "before", "during"}:
            a += len(words[0]) + 1
            a = _skip_space(sentence, a)
            words = words[1:]
        if not words:
            continue
        if len(words) == 1 and a == _first_word(sentence) and prior_weight(fold(words[0])) < 4:
            continue  # a common word capitalised because it opens the sentence
        out.append((a, b))
    return out


def _skip_space(text: str, i: int) -> int:
    while i < len(text) and text[i].isspace():
        i += 1
    return i


def _first_word(sentence: str) -> int:
    m = re.search(r"\w", sentence)
    return m.start() if m else 0


def _person(sentence: str, a: int, b: int) -> tuple[int, int]:
    """A person's name at the end of a long title ("... Central Asia James Appathurai")."""
    words = list(re.finditer(r"\S+", sentence[a:b]))
    if len(words) <= 3:
        return a, b
    return a + words[-2].start(), b


def typed_spans(sentence: str, kind: str) -> list[tuple[int, int]]:
    """Spans of `sentence` that are of the answer type `kind` (all its words, for "other")."""
    if kind in ("date", "published"):
        return [m.span() for m in _DATE.finditer(sentence)]
    if kind == "number":
        return [m.span() for m in _NUMBER.finditer(sentence) if not _DATE.fullmatch(m.group())]
    if kind == "list":
        return [m.span() for m in _LIST.finditer(sentence)]
    if kind in _NAME_KINDS:
        return _names(sentence)
    return []


def new_spans(question: Question, sentence: str, kind: str | None = None) -> list[tuple[int, int]]:
    """Typed spans that say something the question does not (not all their words asked)."""
    asked = set(question.terms)
    out = []
    for a, b in typed_spans(sentence, kind or question.kind):
        words = {t.stem for t in tokens(sentence[a:b]) if t.word not in STOPWORDS}
        if words and not words <= asked:
            out.append((a, b))
    return out


RULED_KINDS = ("date", "published", "number", "list", "organisation", "place", "publisher")
"""Kinds whose typed span (when the sentence has one) beats the span reader: held-out token
F1 in the right sentence on SQuAD 2.0 (`eval/train_reader.py --task span --folds`), rules
against reader: date 0.732/0.545, number 0.605/0.521, list 0.618/0.327, organisation
0.537/0.286, place 0.464/0.372; person 0.414/0.486 and other questions (no typed span) go to
the reader."""


def pick_short(
    question: Question, sentence: str, learned: Callable[[], tuple[int, int] | None]
) -> tuple[int, int] | None:
    """The short answer: the typed span for `RULED_KINDS`, else what `learned()` finds."""
    if question.kind in RULED_KINDS:
        ruled = short_answer(question, sentence)
        if ruled is not None:
            return ruled
    span = learned()
    if span is None or not sentence[span[0] : span[1]].strip():
        return None
    a, b = span
    if (a, b) == (0, len(sentence)):
        return None  # the whole sentence is no short answer
    return a, b


def short_answer(question: Question, sentence: str) -> tuple[int, int] | None:
    """The span of `sentence` that answers `question`, or None when no span stands out."""
    spans = new_spans(question, sentence)
    if question.kind == "list" and not spans:
        spans = new_spans(question, sentence, "person")  # "which group": a name will do
    if not spans:
        return None
    if question.kind in ("person", "author"):
        spans = [_person(sentence, a, b) for a, b in spans]
    anchors = [t.start for t in tokens(sentence) if t.stem in set(question.terms)]
    if not anchors:
        return spans[0]

    def distance(span: tuple[int, int]) -> int:
        # A span holding a word of the question ("Minsk Group" for "which group") comes first.
        if any(span[0] <= x < span[1] for x in anchors):
            return -1
        return min(min(abs(span[0] - x), abs(span[1] - x)) for x in anchors)

    return min(spans, key=lambda s: (distance(s), s[0]))
