"""Whether two short answers state the same fact, and how the sources' answers are grouped."""

from __future__ import annotations

import pytest

from qa.answering.facts import dates, numbers, same_fact
from qa.answering.sources import (
    Found,
    according_to,
    asks_present,
    disagreeing,
    distinct,
    groups,
    newest_first,
    side_label,
    subject_terms,
)


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("20,000", "twenty thousand", True),
        ("41", "57", False),
        ("about 40", "41", True),
        ("40", "41", False),
        ("1.5 million", "1,500,000", True),
        ("nearly 2 million", "1.96 million", True),
        ("3.2 million", "4.1 million", False),
        ("1,200", "1,250", False),
        ("20,000", "20,312", True),
        ("twenty-one", "21", True),
        ("$4.50", "$4.75", False),
        ("41 people", "57 people", False),
        ("Maria Lopez", "Lopez", True),
        ("Ms Lopez", "Maria Lopez", True),
        ("John Smith", "Jane Smith", False),
        ("France", "the United States, Russia and France", True),
        ("Harbor Bank", "Coastal Trust", False),
        ("March 12", "12 March 2021", True),
        ("67 per cent", "Two-thirds", True),
        ("25 per cent", "one in four", True),
        ("47 per cent", "38 per cent", False),
        ("1 January", "New Year's Day", True),  # a date and a name: not comparable
        ("100 years", "a century", True),  # a number and words: not comparable
        ("a collie", "a search dog", True),  # descriptions, not names: not a disagreement
        ("Mr Ambrose", "An amateur astronomer", True),
        ("3 March", "12 March", False),
        ("2019", "2021", False),
        ("May 2020", "2020", True),
    ],
)
def test_same_fact(a: str, b: str, same: bool) -> None:
    assert same_fact(a, b) is same
    assert same_fact(b, a) is same


def test_numbers_and_dates_are_read_with_their_precision() -> None:
    assert [(n.value, n.step) for n in numbers("about 40 and 1.5 million")] == [
        (40.0, 10.0),
        (1_500_000.0, 100_000.0),
    ]
    assert numbers("in 2019") == []  # a year is a date, not a count
    assert dates("on 12 March 2021, not 2020-04-01") == [(2020, 4, 1), (2021, 3, 12)]


def found(short: str, source: str, date: str | None, confidence: float, start: int = 0) -> Found:
    return Found(0, start, start + 10, short, confidence, source, date, "Outlet " + source)


def test_agreeing_spans_are_one_group_and_disagreeing_articles_two() -> None:
    a = found("41", "a.txt", "2020-04-01", 0.9)
    b = found("forty-one", "b.txt", "2020-04-03", 0.8)
    c = found("57", "c.txt", "2020-04-05", 0.7)
    assert groups([a, b]) == [[a, b]]
    assert disagreeing([a, b]) == []
    assert disagreeing([a, b, c]) == [[a, b], [c]]
    # One article saying two things is not a disagreement between sources.
    assert disagreeing([a, found("57", "a.txt", "2020-04-01", 0.6, start=50)]) == []


def test_newest_first_then_undated_and_one_span_per_sentence() -> None:
    old, new = found("1", "a", "2020-01-02", 0.9), found("2", "b", "2021-05-06", 0.5)
    undated = found("3", "c", None, 0.99)
    assert newest_first([undated, old, new]) == [new, old, undated]
    weaker = found("1", "a", "2020-01-02", 0.4)
    assert distinct([old, weaker, new]) == [old, new]
    # The most confident span of a sentence is kept wherever it comes (the best span of an
    # answer must survive: a weaker copy from an overlapping chunk came first in a SQuAD run).
    assert distinct([weaker, new, old]) == [old, new]


def test_who_said_it_and_when_in_words() -> None:
    assert according_to("Azernews", "2020-04-01") == "According to Azernews on 1 April 2020"
    assert according_to(None, "2020-04-01") == "According to an article of 1 April 2020"
    assert according_to("Azernews", None) == "According to Azernews"
    assert according_to(None, None) == ""
    assert side_label(found("41", "corpus/x.txt", "2020-04-03", 0.9)) == (
        "Outlet corpus/x.txt (3 April 2020)"
    )


@pytest.mark.parametrize(
    ("question", "present"),
    [
        ("Who is the mayor of Dunmore?", True),
        ("Who is the current coach?", True),
        ("What is the latest price of a ticket?", True),
        ("Is the bridge still closed?", True),
        ("How many people live there now?", True),
        ("Who was the mayor in 2019?", False),
        ("What is the capital of France?", False),
        ("How many people were injured?", False),
    ],
)
def test_questions_about_the_present(question: str, present: bool) -> None:
    assert asks_present(question) is present


def test_what_a_question_is_about() -> None:
    # Its names; without names, its longer words but for common ones and "now"-words.
    assert subject_terms("How many were hurt when the Kelvaro footbridge fell?") == {"kelvaro"}
    assert subject_terms("How many people are displaced now?") == {"displaced"}
    assert subject_terms("What is the latest bus fare in the town?") == {"fare", "town"}
