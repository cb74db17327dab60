"""Does the answer depend on what else is indexed? The eval set with and without distractors.

The dataset is evaluated over its corpus alone, then again with other articles indexed beside
it (a folder, or the articles of a SQuAD file). A case is stable when it keeps its decision
(answered or abstained) and, answered both times, keeps its cited sentence.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from qa.config import Settings
from qa.evaluation.dataset import Case
from qa.evaluation.evaluate import CaseResult, EvalReport, evaluate
from qa.types import Progress


@dataclass(frozen=True)
class Change:
    """A case that answered differently once the distractors were indexed."""

    id: str
    question: str
    before: str
    after: str
    what: str
    """"decision" (answered vs abstained) or "citation" (another sentence cited)."""


def changes(alone: Sequence[CaseResult], beside: Sequence[CaseResult]) -> list[Change]:
    """The cases of `beside` whose decision or cited sentence differs from `alone`."""
    before = {r.id: r for r in alone}
    out = []
    for r in beside:
        a = before.get(r.id)
        if a is None:
            continue
        if a.answered != r.answered:
            out.append(Change(r.id, r.question, a.answer, r.answer, "decision"))
        elif a.answered and a.cited != r.cited:
            out.append(Change(r.id, r.question, a.answer, r.answer, "citation"))
    return out


def distractor_paths(source: Path, work: Path) -> Path:
    """`source` as a folder of articles (a SQuAD zip is written out as files under `work`)."""
    if source.is_dir():
        return source
    if source.suffix in (".zip", ".json"):
        from qa.evaluation.squad import load_squad, write_articles

        folder = work / "distractors"
        write_articles(load_squad(source), folder)
        return folder
    raise ValueError(f"--distractors {source}: expected a folder of articles or a SQuAD file")


def run_with_distractors(
    cases: Sequence[Case],
    corpus: Path,
    distractors: Path,
    settings: Settings,
    *,
    dataset: str = "",
    progress: Progress | None = None,
) -> EvalReport:
    """The report with distractors indexed, its `extra["stability"]` comparing it to the
    corpus alone (in a temporary store; `settings.store_dir` is not touched)."""
    from qa.ingestion.job import ingest  # late: the ingest stack loads torch and Chroma

    with tempfile.TemporaryDirectory(prefix="qa-distractors-") as tmp:
        work = Path(tmp)
        folder = distractor_paths(distractors, work)
        run = settings.replace(store_dir=work / "store", chroma_url=None)
        ingest([corpus], run)
        alone = evaluate(cases, run, dataset=dataset, progress=progress)
        added = ingest([folder], run)
        beside = evaluate(cases, run, dataset=dataset, progress=progress)
    changed = changes(alone.cases, beside.cases)
    answered_both = [
        r for r in beside.cases if r.answerable and r.answered and r.id in _answered(alone)
    ]
    both = {r.id for r in answered_both}
    moved = [c for c in changed if c.what == "citation" and c.id in both]
    kept_decision = 1 - sum(c.what == "decision" for c in changed) / len(beside.cases)
    kept_citation = 1 - len(moved) / max(len(answered_both), 1)
    stability = {
        "distractors": str(distractors),
        "distractor_articles": len(added.added) + len(added.unchanged),
        "cases": len(beside.cases),
        "kept_decision": kept_decision,
        "answered_both": len(answered_both),
        "kept_citation": kept_citation,
        "changes": [dataclasses.asdict(c) for c in changed],
        "means_alone": alone.means,
    }
    kept = {"kept_decision": kept_decision, "kept_citation": kept_citation}
    means = beside.means | kept
    return dataclasses.replace(beside, means=means, extra=beside.extra | {"stability": stability})


def _answered(report: EvalReport) -> set[str]:
    return {r.id for r in report.cases if r.answered}
