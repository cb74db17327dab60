"""Evaluation: run a dataset of questions through `answer()` and score every case.

A dataset is a JSON Lines file of cases (`qa.evaluation.dataset`, re-exported here);
`evaluate()` asks each question exactly as a user would, through `qa.answering.pipeline.answer`, and
scores retrieval (is the evidence in the retrieved passages), the answer (exact match, token
F1, containment of a reference), citations, abstention and latency. `qa.evaluation.report`
turns the result into tables, files and a chart; `qa.evaluation.squad` runs the same scoring
on SQuAD.

Example:
    >>> cases = load_dataset(Path("eval/questions.jsonl"))
    >>> report = evaluate(cases, Settings(store_dir=Path("/tmp/qa-index")))
    >>> report.means["contains"]
    0.9
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from qa.config import Settings
from qa.evaluation import metrics
from qa.evaluation.conflicts import conflict_scores
from qa.evaluation.dataset import Case, load_dataset, parse_case
from qa.evaluation.hits import relevant, source_hits
from qa.types import Answer, Progress

if TYPE_CHECKING:
    from qa.evaluation.faithfulness import Faithfulness

__all__ = [
    "SCORES",
    "TIMES",
    "Case",
    "CaseResult",
    "EvalReport",
    "evaluate",
    "load_dataset",
    "parse_case",
    "score_case",
    "settings_summary",
    "source_hits",
    "summarize",
]

log = logging.getLogger(__name__)


SCORES = (
    "hit@1",
    "hit@5",
    "mrr@10",
    "em",
    "f1",
    "short_em",
    "short_f1",
    "contains",
    "contains_all",
    "citation_precision",
    "citation_recall",
    "abstention_precision",
    "abstention_recall",
    "answerable_right",
    "answerable_wrong",
    "answerable_refused",
    "unanswerable_abstained",
    "faithfulness_before",
    "faithfulness_after",
    "kept_decision",
    "kept_citation",
    "conflict_found",
    "conflict_invented",
    "as_of_right",
)
"""Metrics in [0, 1] (higher is better but for `answerable_wrong` and `answerable_refused`): the
ones `--fail-under` accepts. `short_em`/`short_f1` score `Answer.short` (the quote when no short
span stood out) against the references; the four `answerable_*`/`unanswerable_*` rates split
the answer-or-abstain decision (an answer is right when it contains a reference). The
faithfulness pair (share of a generated answer's sentences supported by their citations,
before and after the grounding check, mean over answered cases) is scored only for generative
answerers. `kept_decision`/`kept_citation` come from a run with distractors
(`qa.evaluation.stability`): the share of cases keeping their decision, and of answerable cases
answered both times keeping their cited sentence. The sources' scores (conflicts found and
invented, answers as of a date): `qa.evaluation.conflicts`."""

TIMES = ("latency_p50_ms", "latency_p95_ms", "retrieve_p50_ms", "retrieve_p95_ms")
"""Latency metrics in milliseconds, lower is better."""

_MARKER = re.compile(r"\s*\[\d+\]")


@dataclass(frozen=True)
class CaseResult:
    """How one case went: the answer given and the scores that apply to it."""

    id: str
    kind: str
    question: str
    answerable: bool
    answered: bool
    answer: str
    query: str
    scores: dict[str, float]
    """Only the metrics that apply: no retrieval or answer scores for unanswerable cases."""
    latency_ms: float
    retrieve_ms: float | None = None
    confidence: float = 0.0
    near_miss: bool = False
    cited: tuple[str, ...] = ()
    """What the answer cites, as `source:start-end`."""
    quote: str = ""
    """The first citation's quote (the best span's sentence, or a near miss's)."""
    short: str = ""


@dataclass(frozen=True)
class EvalReport:
    """The result of an evaluation: per-case results and the means over them."""

    name: str
    dataset: str
    created: str
    settings: dict[str, Any]
    cases: tuple[CaseResult, ...]
    means: dict[str, float]
    extra: dict[str, Any] = field(default_factory=dict)
    """Anything else worth keeping, e.g. the SQuAD sample's seed and ingest time."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (what the JSON report holds)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EvalReport:
        """The report back from `to_dict()` output."""
        cases = tuple(
            CaseResult(**(c | {"cited": tuple(c.get("cited", ()))})) for c in data["cases"]
        )
        return cls(**{**data, "cases": cases})


def score_case(
    case: Case, answer: Answer, latency_ms: float, faithful: Faithfulness | None = None
) -> CaseResult:
    """Score one answer against its case (and its faithfulness, when measured)."""
    scores: dict[str, float] = {}
    if faithful is not None and answer.answered:
        scores["faithfulness_before"] = faithful.before
        scores["faithfulness_after"] = faithful.after
    hits = relevant(case, answer) if case.answerable else None
    if hits is not None:
        scores["hit@1"] = metrics.hit_at_k_flags(hits, 1)
        scores["hit@5"] = metrics.hit_at_k_flags(hits, 5)
        scores["mrr@10"] = metrics.reciprocal_rank_flags(hits, 10)
    if case.answerable:
        # An abstention is scored as an empty answer: it should have answered.
        # Scored without its "According to <outlet> on <date>: " (the quote is the answer).
        said = f"{answer.according_to}: " if answer.according_to else ""
        prediction = _MARKER.sub("", answer.text.removeprefix(said)) if answer.answered else ""
        scores["em"] = metrics.exact_match(prediction, case.answers)
        scores["f1"] = metrics.token_f1(prediction, case.answers)
        scores["contains"] = metrics.answer_contains(prediction, case.answers)
        short = (answer.short or prediction) if answer.answered else ""
        scores["short_em"] = metrics.exact_match(short, case.answers)
        scores["short_f1"] = metrics.token_f1(short, case.answers)
        scores["answerable_right"] = float(answer.answered and scores["contains"] > 0)
        scores["answerable_wrong"] = float(answer.answered and scores["contains"] == 0)
        scores["answerable_refused"] = float(not answer.answered)
        if case.required:
            scores["contains_all"] = metrics.contains_all(prediction, case.required)
        quotes = [c.quote for c in answer.citations] if answer.answered else []
        if answer.answered:
            scores["citation_precision"] = metrics.citation_precision(
                quotes, case.evidence, case.answers
            )
        scores["citation_recall"] = metrics.citation_recall(quotes, case.evidence, case.answers)
    else:
        scores["unanswerable_abstained"] = float(not answer.answered)
    scores.update(conflict_scores(case, answer))
    return CaseResult(
        id=case.id,
        kind=case.kind,
        question=case.question,
        answerable=case.answerable,
        answered=answer.answered,
        answer=answer.text,
        query=answer.query,
        scores=scores,
        latency_ms=latency_ms,
        retrieve_ms=answer.timings_ms.get("retrieve"),
        confidence=answer.confidence,
        near_miss=answer.near_miss,
        cited=tuple(f"{c.source}:{c.start}-{c.end}" for c in answer.citations),
        quote=answer.citations[0].quote if answer.citations else "",
        short=answer.short,
    )


def summarize(results: Sequence[CaseResult]) -> dict[str, float]:
    """Means of every score over the cases it applies to, abstention and latency figures."""
    if not results:
        raise ValueError("no case results to summarize")
    means: dict[str, float] = {}
    for name in SCORES:
        values = [r.scores[name] for r in results if name in r.scores]
        if values:
            means[name] = sum(values) / len(values)
    precision, recall = metrics.abstention_scores((r.answerable, r.answered) for r in results)
    means["abstention_precision"] = precision
    means["abstention_recall"] = recall
    latencies = [r.latency_ms for r in results]
    means["latency_p50_ms"] = metrics.percentile(latencies, 50)
    means["latency_p95_ms"] = metrics.percentile(latencies, 95)
    retrieval = [r.retrieve_ms for r in results if r.retrieve_ms is not None]
    if retrieval:
        means["retrieve_p50_ms"] = metrics.percentile(retrieval, 50)
        means["retrieve_p95_ms"] = metrics.percentile(retrieval, 95)
    return {name: means[name] for name in (*SCORES, *TIMES) if name in means}


def settings_summary(settings: Settings) -> dict[str, Any]:
    """The settings that change results, for the report (no secrets)."""
    keep = ("embedder", "answerer", "k", "fetch_k", "chunk_tokens", "chunk_overlap_tokens")
    summary: dict[str, Any] = {name: getattr(settings, name) for name in keep}
    summary["abstain_below"] = settings.abstain_below
    summary["store"] = settings.chroma_url or str(settings.store_dir)
    return summary


def evaluate(
    cases: Sequence[Case],
    settings: Settings,
    *,
    name: str = "corpus",
    dataset: str = "",
    progress: Progress | None = None,
    warmup: bool = True,
) -> EvalReport:
    """Ask every case's question through `qa.answering.pipeline.answer` and score the answers.

    Args:
        cases: the dataset, e.g. from `load_dataset`.
        settings: the index and models to use.
        name: a short label for reports ("corpus", "squad").
        dataset: where the cases came from, kept in the report.
        progress: called after each case with (done, total, case id).
        warmup: ask the first question once, untimed, so model loading does not count as
            the latency of the first case.
    """
    from qa.answering.pipeline import answer  # late: it loads the retrieval and embedding stack
    from qa.evaluation.faithfulness import Faithfulness, faithfulness
    from qa.models.registry import embedder_for

    # Extractive answers quote their passages verbatim: faithful by construction.
    generative = settings.answerer != "extractive"
    if not cases:
        raise ValueError("no cases to evaluate")
    if warmup:
        answer(cases[0].question, settings=settings)
    results: list[CaseResult] = []
    for done, case in enumerate(cases, start=1):
        started = time.perf_counter()
        reply = answer(case.question, case.history, settings=settings)
        latency_ms = (time.perf_counter() - started) * 1000
        faithful = None
        if generative and reply.answerer != "extractive":
            embedder = embedder_for(settings)
            faithful = faithfulness(reply, embedder)
        elif generative and reply.fallback == "unsupported":
            # Nothing generated survived the check: the extractive answer (quoted) is shown.
            faithful = Faithfulness(1, 0, 0, 0)
        results.append(score_case(case, reply, latency_ms, faithful))
        if progress:
            progress(done, len(cases), case.id)
        log.debug("%s: answered=%s %s", case.id, reply.answered, results[-1].scores)
    return EvalReport(
        name=name,
        dataset=dataset,
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        settings=settings_summary(settings),
        cases=tuple(results),
        means=summarize(results),
    )
