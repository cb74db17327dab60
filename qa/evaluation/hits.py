"""Which retrieved passages count as retrieval hits for a case: those holding its evidence, or
(for benchmarks without evidence) those of its article holding a reference answer."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from qa.evaluation import metrics
from qa.evaluation.dataset import Case
from qa.types import Answer


def source_hits(case: Case, sources: Sequence[str], texts: Sequence[str]) -> list[bool]:
    """For each passage: is it from the case's article (by file name) and holding a reference?"""
    refs = [" ".join(r.split()) for r in case.answers if r.strip()]
    return [
        Path(source).name == case.source and any(r in " ".join(text.split()) for r in refs)
        for source, text in zip(sources, texts, strict=True)
    ]


def relevant(case: Case, answer: Answer) -> list[bool] | None:
    """Which retrieved passages count as hits, or None when the case has no target.

    Header facts (kind "header": author, outlet, date) stand before the body, in no passage,
    so retrieval is not scored for them; their citation is.
    """
    if case.kind == "header":
        return None
    if case.source:
        return source_hits(
            case, [p.chunk.source for p in answer.passages], [p.chunk.text for p in answer.passages]
        )
    if case.evidence.strip():
        return metrics.relevant_flags([p.chunk.text for p in answer.passages], case.evidence)
    return None
