"""SQuAD 2.0 as an answer-or-abstain benchmark: both errors counted apart.

The file's articles are indexed together in a temporary store and its questions asked through
`answer()`, unanswerable ones included (written to look answerable: same article, same names,
one fact changed), at the operating point (the reader's threshold, or
`Settings.abstain_below`): the report gives answerable questions answered rightly / wrongly /
refused and unanswerable ones abstained on, exactly as a user meets them. Run at threshold 0
(`--abstain-below 0`) every question is answered and records its best span's confidence;
`curve()` then gives the same rates at every threshold, as if refused below it, for the PNG and
for fitting the threshold (`eval/fit_reader.py`).

Example:
    >>> report = run_squad2(Path("../shared/bench/squad-v2.0/dev-v2.0-part1.json.zip"))
    >>> report.means["unanswerable_abstained"]
"""

from __future__ import annotations

import dataclasses
import random
import tempfile
from collections.abc import Sequence
from pathlib import Path

from qa.config import Settings
from qa.evaluation.evaluate import CaseResult, EvalReport, evaluate, summarize
from qa.evaluation.squad import load_squad, unread, write_articles
from qa.types import Progress

RATES = ("answerable_right", "answerable_wrong", "answerable_refused", "unanswerable_abstained")


def _at(result: CaseResult, threshold: float) -> CaseResult:
    """`result` as it would be had the answerer refused below `threshold`."""
    if not result.answered or result.confidence >= threshold:
        return result
    scores = {k: v for k, v in result.scores.items() if not k.startswith(("hit@", "mrr@"))}
    keep = {k: v for k, v in result.scores.items() if k.startswith(("hit@", "mrr@"))}
    if result.answerable:
        zero = ("em", "f1", "short_em", "short_f1", "contains", "contains_all")
        scores = {k: 0.0 for k in zero if k in scores} | {
            "citation_recall": 0.0,
            "answerable_right": 0.0,
            "answerable_wrong": 0.0,
            "answerable_refused": 1.0,
        }
    else:
        scores = {"unanswerable_abstained": 1.0}
    return dataclasses.replace(result, answered=False, scores=keep | scores)


def at_threshold(report: EvalReport, threshold: float) -> EvalReport:
    """The report of a threshold-0 run, re-decided at `threshold`."""
    cases = tuple(_at(c, threshold) for c in report.cases)
    extra = report.extra | {"threshold": threshold}
    return dataclasses.replace(report, cases=cases, means=summarize(cases), extra=extra)


def curve(report: EvalReport, steps: int = 100) -> list[dict[str, float]]:
    """The four rates at thresholds 0, 1/steps, ..., 1 (from a threshold-0 run)."""
    out = []
    for i in range(steps + 1):
        t = i / steps
        means = summarize([_at(c, t) for c in report.cases])
        out.append({"threshold": t} | {k: means.get(k, 0.0) for k in RATES})
    return out


def write_curve_chart(points: Sequence[dict[str, float]], threshold: float, path: Path) -> Path:
    """Answerable right and unanswerable abstained (and wrong) against the threshold."""
    import matplotlib

    matplotlib.use("Agg")  # no display here; must precede pyplot
    import matplotlib.pyplot as plt

    xs = [p["threshold"] for p in points]
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=100)
    ax.plot(xs, [p["answerable_right"] for p in points], label="answerable: answered rightly")
    ax.plot(xs, [p["unanswerable_abstained"] for p in points], label="unanswerable: abstained")
    ax.plot(xs, [p["answerable_wrong"] for p in points], ":", label="answerable: answered wrongly")
    ax.axvline(threshold, color="grey", linestyle="--", label=f"operating point {threshold:.3f}")
    ax.set_xlabel("confidence threshold (answer when P(answers) >= threshold)")
    ax.set_ylabel("share of questions")
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def run_squad2(
    path: Path | str,
    settings: Settings,
    *,
    limit: int | None = None,
    seed: int = 0,
    questions_from: Sequence[str] = (),
    progress: Progress | None = None,
) -> tuple[EvalReport, list[dict[str, float]] | None]:
    """Index the file's articles, ask its questions; the report at the operating point and
    the curve over thresholds.

    Args:
        path: a SQuAD 2.0 JSON (zipped or plain).
        settings: models and retrieval; the store is replaced by a temporary one.
        limit: ask this many questions (drawn by `random.Random(seed)`); all when None.
        questions_from: ask only about these articles (file names or titles), all indexed.
        progress: called with (done, total, message).
    """
    from qa.ingestion.job import ingest  # late: the ingest stack loads torch and Chroma

    articles = load_squad(path)
    wanted = {w.replace(" ", "_") for w in questions_from}
    chosen = [
        a for a in articles if not wanted or a.file_name in wanted or a.file_name[3:-4] in wanted
    ]
    if wanted and not chosen:
        names = ", ".join(a.file_name for a in articles)
        raise ValueError(f"none of {sorted(wanted)} is an article of {path} ({names})")
    asked = unread(chosen, settings)
    cases = [c for a in asked for c in a.cases]
    if limit is not None and limit < len(cases):
        cases = random.Random(seed).sample(cases, limit)
    threshold = settings.abstain_below
    if threshold is None:
        from qa.answering.reader import reader_record

        threshold = reader_record(settings.reader_model).threshold
    with tempfile.TemporaryDirectory(prefix="qa-squad2-") as tmp:
        work = Path(tmp)
        write_articles(articles, work / "articles")
        run = settings.replace(
            store_dir=work / "store", chroma_url=None, collection="squad2", abstain_below=threshold
        )
        ingested = ingest([work / "articles"], run, progress)
        if ingested.failed or len(ingested.added) != len(articles):
            raise RuntimeError(f"SQuAD 2.0 ingest incomplete: {ingested.summary()}")
        raw = evaluate(cases, run, name="squad2", dataset=str(path), progress=progress)
    report = at_threshold(raw, threshold)
    extra = {
        "articles": len(articles),
        "asked_about": [a.file_name for a in asked],
        "skipped_articles": len(chosen) - len(asked),
        "questions": len(cases),
        "answerable": sum(c.answerable for c in cases),
        "seed": seed,
        "reader_model": str(settings.reader_model or "shipped"),
    }
    report = dataclasses.replace(report, extra=report.extra | extra)
    return report, curve(raw) if threshold == 0 else None
