"""`answer()` and `stream()`: a question (and the conversation so far) in, a cited Answer out.

The same steps are exposed as a LangChain `Runnable` by `qa.answering.runnables.build_chain()`:
condense the follow-up into a standalone query | retrieve | answer (extractive, or a
generative backend whose every sentence is checked against the passage it cites).
"""

from __future__ import annotations

import logging
import re
import time
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import date

from qa.answering.extractive import extract
from qa.answering.reader import load_reader, reader_record
from qa.config import Settings
from qa.index.retrieval import retrieve
from qa.index.store import open_index
from qa.models.registry import embedder_for
from qa.types import Answer, Fallback, Filters

log = logging.getLogger(__name__)

History = Sequence[tuple[str, str]]
MAX_QUESTION_CHARS = 2000

_FOLLOW_UP = re.compile(
    r"^\s*(and|but|also|so|then|what about|how about)\b"
    r"|\b(it|its|they|them|their|theirs|he|him|his|she|her|this|that|these|those|there|then|"
    r"the same|the former|the latter)\b",
    re.IGNORECASE,
)
_NAME = re.compile(r"\b[A-Z][\w’'-]*(?:\s+(?:of\s+|the\s+)?[A-Z][\w’'-]*)*")


class QuestionError(ValueError):
    """The question cannot be searched as given; the message says why."""


def clean_question(question: str) -> str:
    """The question without control characters; QuestionError if nothing is left to ask."""
    text = "".join(" " if unicodedata.category(ch).startswith("C") else ch for ch in question)
    text = " ".join(text.split())
    if not re.search(r"\w", text):
        raise QuestionError("the question is empty: type a question about the articles")
    if len(text) > MAX_QUESTION_CHARS:
        raise QuestionError(
            f"the question is {len(text):,} characters long; keep it under {MAX_QUESTION_CHARS:,}"
        )
    return text


def condense(question: str, history: History) -> str:
    """A standalone search query for a follow-up, from the previous turn.

    Without a language model this is lexical: a question that leans on the conversation
    (a leading "and", or a pronoun) is searched together with the previous question and the
    names in the previous answer.
    """
    if not history or not _FOLLOW_UP.search(question):
        return question
    previous_q, previous_a = history[-1]
    names = [n for n in _NAME.findall(re.sub(r"\[\d+\]", "", previous_a)) if len(n) > 2]
    context = " ".join(dict.fromkeys(names[:6]))
    follow = re.sub(r"^\s*(and|but|also|so|then)\s+", "", question, flags=re.IGNORECASE)
    follow = follow[:1].upper() + follow[1:]
    return " ".join(part for part in (previous_q.strip(), context, follow) if part)


def up_to(filters: Filters | None, as_of: str) -> Filters:
    """`filters` restricted to articles published on or before `as_of` (YYYY-MM-DD)."""
    try:
        date.fromisoformat(as_of)
    except ValueError as e:
        raise QuestionError(f"as_of must be a date, YYYY-MM-DD; got {as_of!r}") from e
    base = filters or Filters()
    until = min(base.date_to, as_of) if base.date_to else as_of
    return replace(base, date_to=until)


def stream(
    question: str,
    history: History = (),
    *,
    settings: Settings | None = None,
    filters: Filters | None = None,
    as_of: str | None = None,
) -> Iterator[str | Answer]:
    """Yield the answer's text in pieces as it is produced, then the final Answer.

    `as_of` (YYYY-MM-DD): answer from articles published up to that date, the newest that
    answers first (as a question about the present is).

    Raises:
        QuestionError: the question is empty or too long.
    """
    # The one default the library builds from the environment (the public API's `QA_*`).
    settings = settings or Settings.from_env()
    started = time.perf_counter()
    question = clean_question(question)
    query = condense(question, history)
    index = open_index(settings)
    embedder = embedder_for(settings)
    if as_of is not None:
        filters = up_to(filters, as_of)
    found = retrieve(query, index, embedder, settings, filters)
    retrieved_at = time.perf_counter()
    # The decision comes first, whatever the answerer: a question the extractive answerer
    # refuses is refused without calling a language model.
    decided = extract(
        question,
        query,
        found.passages,
        index,
        load_reader(settings.reader_model),
        reader_record(settings.reader_model),
        settings.abstain_below,
        settings.read_k,
        as_of,
        subject=f"{history[-1][0]} {question}" if query != question else question,
        previous=history[-1] if query != question else None,
    )
    final: Answer | None = None
    notice = ""
    fallback: Fallback = ""
    if settings.answerer != "extractive" and decided.answered:
        from qa.answering.generative import GenerationFailed, generate

        try:
            lead = decided.citations[0] if decided.citations else None
            for piece in generate(question, query, found.passages, settings, embedder, lead):
                if isinstance(piece, Answer):
                    final = replace(piece, confidence=decided.confidence)
                else:
                    yield piece
        except GenerationFailed as e:
            notice = f"{settings.answerer} failed ({e}); showing the extractive answer"
            fallback = e.reason
            log.warning(notice)
    if final is None:
        final = decided
        # Whole: an extractive answer is complete when it is known; word by word it only
        # cost the chat an update (the whole conversation re-sent) per word.
        yield final.text
    done = time.perf_counter()
    timings = {
        "retrieve": (retrieved_at - started) * 1000,
        "answer": (done - retrieved_at) * 1000,
        "total": (done - started) * 1000,
    }
    yield Answer(
        question=final.question,
        text=final.text,
        answered=final.answered,
        citations=final.citations,
        query=query,
        answerer=final.answerer if notice == "" else "extractive",
        passages=tuple(final.passages or found.passages),
        removed=final.removed,
        notice=notice or final.notice,
        short=final.short,
        confidence=final.confidence,
        near_miss=final.near_miss,
        timings_ms=timings,
        fallback=fallback or final.fallback,
        according_to=final.according_to,
        as_of=final.as_of,
        conflicts=final.conflicts,
    )


def answer(
    question: str,
    history: History = (),
    *,
    settings: Settings | None = None,
    filters: Filters | None = None,
    as_of: str | None = None,
) -> Answer:
    """Answer `question` from the indexed articles, with numbered citations.

    Args:
        question: what to ask, in plain language.
        history: earlier turns as (question, answer text) pairs, for follow-ups.
        settings: which index and backends; default `Settings.from_env()`.
        filters: restrict to publishers and/or a date range.
        as_of: answer as known on this date (YYYY-MM-DD): from articles published up to
            then, the newest that answers.

    Example:
        >>> a = answer("Which UN resolutions demand withdrawal?")
        >>> a.answered, a.citations[0].source
        (True, 'corpus/000_597cfd3371608b94.txt')
    """
    *_, last = stream(question, history, settings=settings, filters=filters, as_of=as_of)
    assert isinstance(last, Answer)
    return last
