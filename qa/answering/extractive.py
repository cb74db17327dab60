"""The extractive answerer: the reader's span across the retrieved passages, quoted exactly.

The reader (`qa.answering.reader`) reads the question with each of the best `read_k` passages and
marks the span of each that answers it, scored against answering nothing. The best span across them
is the short answer; the sentence (or sentences) holding it is quoted verbatim with a numbered
citation. Below the threshold (`Settings.abstain_below`, else the shipped record's) it
abstains; when the best span was close it says what the corpus does say instead ("near
miss"). Questions about an article itself (who wrote it, which outlet, when) are answered from
its header lines, quoted like any sentence.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from qa.answering.facts import with_hedge
from qa.answering.header import header_answer
from qa.answering.question import analyse
from qa.answering.sources import (
    MAX_SUPPORT,
    Found,
    according_to,
    asks_present,
    disagreeing,
    distinct,
    groups,
    mentioned,
    newest_first,
    on_subject,
    side_label,
    spoken_date,
    subject_terms,
)
from qa.ingestion.chunking import split_sentences
from qa.types import Answer, Citation, Passage, Side

if TYPE_CHECKING:
    from qa.answering.reader import Reader, ReaderRecord, Reading
    from qa.index.store import Index

NOT_IN_CORPUS = "The corpus does not say: none of the indexed articles answers this question."
NEAR_MISS = "The corpus does not say that. The closest it says:"
DIFFER = "The sources differ:"


def own_words(question: str) -> str:
    """A follow-up without its opening conjunction: "and who co-chairs it?" -> "who co-chairs
    it?"."""
    return re.sub(r"^\s*(?:and|but|also|so|then)\s+", "", question, flags=re.IGNORECASE)


_PRONOUN = re.compile(r"\b(?:(it|they|them|he|she|him)|(its|their|his))\b", re.IGNORECASE)
_ATTRIBUTION = re.compile(r"^(?:As of [^,]+, according to|According to)[^:]*:\s*")


def resolved(reader: Reader, question: str, previous: tuple[str, str] | None) -> str:
    """The follow-up in its own words, its first pronoun replaced by what the previous turn
    answered: the reader's span for the previous question in the previous answer's text.

    "and who co-chairs it?" after "Which group mediates the conflict?" (answered "The OSCE
    Minsk Group ... [1]") -> "who co-chairs The OSCE Minsk Group?". Unchanged without a
    pronoun, or when the previous turn was refused or its sources differed."""
    own = own_words(question)
    pronoun = _PRONOUN.search(own)
    if previous is None or pronoun is None:
        return own
    previous_question, previous_answer = previous
    if previous_answer.startswith((NOT_IN_CORPUS, NEAR_MISS, DIFFER)):
        return own
    text = re.sub(r"\s*\[\d+\]", "", _ATTRIBUTION.sub("", previous_answer)).strip()
    readings = reader.read(own_words(previous_question), [text]) if text else []
    if not readings:
        return own
    subject = text[readings[0].start : readings[0].end].strip(" ,.;:")
    if not subject:
        return own
    said = subject if pronoun.group(1) else f"{subject}'s"
    return own[: pronoun.start()] + said + own[pronoun.end() :]


def readings(reader: Reader, query: str, passages: Sequence[Passage], n: int) -> list[Reading]:
    """The reader's best span in each of the first `n` passages."""
    return reader.read(query, [p.chunk.text for p in passages[:n]])


def quote_span(passage: Passage, start: int, end: int) -> tuple[int, int]:
    """Article offsets of the sentence(s) of `passage` holding its text's `[start:end]`."""
    text = passage.chunk.text
    held = [(a, b) for a, b in split_sentences(text) if a < end and b > start]
    a, b = (held[0][0], held[-1][1]) if held else (start, end)
    return passage.chunk.start + a, passage.chunk.start + b


def extract(
    question: str,
    query: str,
    passages: Sequence[Passage],
    index: Index,
    reader: Reader,
    record: ReaderRecord,
    threshold: float | None = None,
    read_k: int = 5,
    as_of: str | None = None,
    subject: str = "",
    previous: tuple[str, str] | None = None,
) -> Answer:
    """The extractive Answer to `question` from `passages` (searched as `query`).

    `as_of` (YYYY-MM-DD): the passages are from articles published up to then; the answer
    comes from the newest of them that answers, as for a question about the present.
    `subject`: the text whose names (or words) say what the question is about (for a follow-up, the
    conversation's questions; default `question`): spans of passages that do not mention
    them are not sides of a disagreement, nor support. `previous`: the last turn (question,
    answer text) of a follow-up, whose answer a pronoun of the question stands for.
    """
    threshold = record.threshold if threshold is None else threshold
    common: dict[str, Any] = {"query": query, "passages": tuple(passages)}
    # The standalone query: a follow-up's own words ("where did he post it?") say too little.
    asked = analyse(query)
    if asked.asks_header:
        found = header_answer(asked, passages, index)
        if found is not None:
            citation, short, confidence = found
            text = f"{citation.quote} [1]"
            return Answer(
                question, text, True, (citation,), short=short, confidence=confidence, **common
            )
    # The reader reads the user's own question, its pronoun resolved: the passages were found
    # with the standalone query, whose added context ("Which group mediates ...? Minsk Group")
    # makes the reader answer the previous question again.
    read = readings(reader, resolved(reader, question, previous), passages, read_k)
    if not read:
        return Answer(question, NOT_IN_CORPUS, False, **common)
    asked_names = subject_terms(subject or question)
    scored = [_found(r, record.confidence(r.score), passages, asked_names) for r in read]
    best = max(scored, key=lambda f: (f.confidence, -f.passage))
    if best.confidence < threshold:
        return _refusal(question, best, passages, record, common)
    # Spans the reader trusts in passages about the same subject as the best one.
    trusted = on_subject(distinct([f for f in scored if f.confidence >= threshold]), best)
    if as_of is not None or asks_present(question):
        newest = newest_first(trusted)[0]
        group = next(g for g in groups(trusted) if newest in g)
        return _agreed(question, [newest, *[f for f in group if f is not newest]], passages,
                       common, as_of=newest.date)  # fmt: skip
    sides = disagreeing(trusted)
    if sides:
        return _differ(question, sides, passages, common)
    return _agreed(question, groups(trusted)[0], passages, common)


def _found(
    reading: Reading, confidence: float, passages: Sequence[Passage], asked: frozenset[str]
) -> Found:
    p = passages[reading.passage]
    start, end = quote_span(p, reading.start, reading.end)
    c = p.chunk
    short = c.text[with_hedge(c.text, reading.start) : reading.end].strip(" ,.;:")
    mentions = mentioned(asked, f"{c.title} {c.text}")
    return Found(
        reading.passage, start, end, short, confidence, c.source, c.date, c.publisher, mentions
    )


def _cite(n: int, f: Found, passages: Sequence[Passage]) -> Citation:
    return Citation.quoting(n, passages[f.passage], f.quote_start, f.quote_end)


def _agreed(
    question: str,
    group: Sequence[Found],
    passages: Sequence[Passage],
    common: dict[str, Any],
    as_of: str | None = None,
) -> Answer:
    """One answer from the group's first span, its other sentences cited as support."""
    lead = group[0]
    citations = tuple(_cite(n, f, passages) for n, f in enumerate(group[:MAX_SUPPORT], start=1))
    said = according_to(lead.publisher, lead.date)
    if as_of is not None:
        said = f"As of {spoken_date(as_of)}, {said[0].lower()}{said[1:]}" if said else ""
    markers = " ".join(f"[{c.n}]" for c in citations)
    text = f"{said}: {citations[0].quote} {markers}" if said else f"{citations[0].quote} {markers}"
    return Answer(
        question,
        text,
        True,
        citations,
        short=lead.short,
        confidence=lead.confidence,
        according_to=said,
        as_of=as_of,
        **common,
    )


def _differ(
    question: str, grouped: Sequence[Sequence[Found]], passages: Sequence[Passage], common: dict
) -> Answer:
    """ "The sources differ: B (3 April 2020) says 57 [1]; A (1 April 2020) says 41 [2]." """
    leads = newest_first([g[0] for g in grouped])
    citations = tuple(_cite(n, f, passages) for n, f in enumerate(leads, start=1))
    said = "; ".join(f"{side_label(f)} says {f.short} [{n}]" for n, f in enumerate(leads, 1))
    sides = tuple(
        Side(f.short, n, f.source, f.date, f.publisher, f.confidence)
        for n, f in enumerate(leads, start=1)
    )
    return Answer(
        question,
        f"{DIFFER} {said}.",
        True,
        citations,
        confidence=max(f.confidence for f in leads),
        conflicts=sides,
        **common,
    )


def _refusal(
    question: str,
    best: Found,
    passages: Sequence[Passage],
    record: ReaderRecord,
    common: dict[str, Any],
) -> Answer:
    """ "The corpus does not say", or a near miss: the closest thing it says, cited."""
    if best.confidence < record.near_miss:
        return Answer(question, NOT_IN_CORPUS, False, confidence=best.confidence, **common)
    citation = _cite(1, best, passages)
    return Answer(
        question,
        f"{NEAR_MISS} “{citation.quote}” [1]",
        False,
        (citation,),
        confidence=best.confidence,
        near_miss=True,
        **common,
    )
