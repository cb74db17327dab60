"""Scores of the sources' agreement: disagreements reported with each side, none invented, and
questions about the present answered from the newest article.

An eval case may name the answers its articles give when they disagree (`"conflict": ["57",
"41"]`) or the date an answer about the present must hold as of (`"as_of": "2021-06-01"`).
"""

from __future__ import annotations

from qa.answering.facts import same_fact
from qa.evaluation.dataset import Case
from qa.types import Answer


def _states(short: str, expected: str) -> bool:
    return bool(short) and (same_fact(short, expected) or expected.lower() in short.lower())


def conflict_scores(case: Case, answer: Answer) -> dict[str, float]:
    """`conflict_found` (every expected side reported and cited) for a case that names a
    conflict, `conflict_invented` for an answered one that does not, `as_of_right` (the answer
    holds as of the expected date and states its value) for one that names a date."""
    scores: dict[str, float] = {}
    sides = [s.short for s in answer.conflicts]
    if case.conflict:
        scores["conflict_found"] = float(
            all(any(_states(s, want) for s in sides) for want in case.conflict)
        )
    elif case.answerable and answer.answered:
        scores["conflict_invented"] = float(bool(answer.conflicts))
    if case.as_of:
        holds = answer.as_of == case.as_of and any(_states(answer.short, a) for a in case.answers)
        scores["as_of_right"] = float(answer.answered and holds)
    return scores
