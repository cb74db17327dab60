"""Evaluation datasets: JSON Lines files of questions with what a right answer contains.

One JSON object per line:

    {"id": "q08", "question": "Which UN resolutions demand withdrawal?",
     "answers": ["822, 853, 874 and 884"], "evidence": "resolutions (822, 853, 874 and 884)",
     "answerable": true, "kind": "list", "required": ["822", "853", "874", "884"],
     "history": [["earlier question", "earlier answer"]]}
    {"id": "n01", "question": "How many people were injured?", "answers": ["57", "41"],
     "conflict": ["57", "41"]}
    {"id": "u01", "question": "Who is the coach now?", "answers": ["Ana Ruiz"],
     "as_of": "2021-06-01"}

Only `id` and `question` are required; `answerable` defaults to whether `answers` is
non-empty. A bad line raises `ValueError` naming the file and the line.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Case:
    """One evaluation question with what a right answer must contain."""

    id: str
    question: str
    answers: tuple[str, ...] = ()
    """Acceptable answers; any one of them counts."""
    evidence: str = ""
    """Verbatim article text the answer rests on; retrieval hits are passages containing it."""
    answerable: bool = True
    history: tuple[tuple[str, str], ...] = ()
    """Earlier (question, answer text) turns, for follow-up questions."""
    kind: str = ""
    required: tuple[str, ...] = ()
    """Parts that must all appear, for list answers."""
    source: str = ""
    """For benchmarks without evidence: the file name of the article holding the answer; a
    retrieval hit is then a passage of that article containing a reference answer."""
    conflict: tuple[str, ...] = ()
    """The different answers of articles that disagree, each of which must be reported."""
    as_of: str = ""
    """For a question about the present: the date (YYYY-MM-DD) the answer must hold as of."""


def load_dataset(path: Path | str) -> list[Case]:
    """Read a JSON Lines dataset; a bad line raises `ValueError` naming the file and line."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise ValueError(f"{path}: cannot read the dataset: {e.strerror or e}") from e
    cases: list[Case] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path} line {number}"
        try:
            data = json.loads(line)
        except json.JSONDecodeError as e:
            raise ValueError(f"{where}: not valid JSON ({e.msg} at column {e.colno})") from e
        case = parse_case(data, where)
        if case.id in seen:
            raise ValueError(f"{where}: id {case.id!r} already used on line {seen[case.id]}")
        seen[case.id] = number
        cases.append(case)
    if not cases:
        raise ValueError(f"{path}: no cases in the dataset")
    return cases


def _strings(data: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{where}: {key!r} must be a list of strings, got {value!r}")
    return tuple(value)


def parse_case(data: Any, where: str) -> Case:
    """One case from its decoded JSON; `where` prefixes error messages ("file line 7")."""
    if not isinstance(data, dict):
        raise ValueError(f"{where}: expected a JSON object, got {type(data).__name__}")
    for key in ("id", "question"):
        if key not in data:
            raise ValueError(f"{where}: {key!r} missing")
        if not isinstance(data[key], str) or not data[key].strip():
            raise ValueError(f"{where}: {key!r} must be a non-empty string, got {data[key]!r}")
    answers = _strings(data, "answers", where)
    required = _strings(data, "required", where)
    answerable = data.get("answerable", bool(answers))
    if not isinstance(answerable, bool):
        raise ValueError(f"{where}: 'answerable' must be true or false, got {answerable!r}")
    if answerable and not answers:
        raise ValueError(f"{where}: an answerable case needs at least one entry in 'answers'")
    if not answerable and (answers or required):
        raise ValueError(f"{where}: an unanswerable case must have empty 'answers'/'required'")
    evidence = data.get("evidence", "")
    if not isinstance(evidence, str):
        raise ValueError(f"{where}: 'evidence' must be a string, got {evidence!r}")
    history_raw = data.get("history", [])
    if not isinstance(history_raw, list) or not all(
        isinstance(turn, list) and len(turn) == 2 and all(isinstance(t, str) for t in turn)
        for turn in history_raw
    ):
        raise ValueError(
            f"{where}: 'history' must be a list of [question, answer] pairs, got {history_raw!r}"
        )
    kind, source = data.get("kind", ""), data.get("source", "")
    as_of = data.get("as_of", "")
    if not all(isinstance(v, str) for v in (kind, source, as_of)):
        raise ValueError(f"{where}: 'kind', 'source' and 'as_of' must be strings")
    conflict = _strings(data, "conflict", where)
    if len(conflict) == 1:
        raise ValueError(f"{where}: a 'conflict' names at least two answers, got {conflict!r}")
    return Case(
        id=data["id"],
        question=data["question"],
        answers=answers,
        evidence=evidence,
        answerable=answerable,
        history=tuple((q, a) for q, a in history_raw),
        kind=kind,
        required=required,
        source=source,
        conflict=conflict,
        as_of=as_of,
    )
