"""Measure where the extractive answerer should abstain, on SQuAD (a corpus nobody here wrote).

Indexes all SQuAD dev articles but the last `--held-out`, asks `--limit` questions drawn from all
of them (seed 0): questions about a held-out article are unanswerable here. For each question the
best sentence's support score (qa.extractive.Candidate.score) is recorded, and the threshold
with the best F1 of abstaining is printed together with what it costs the answerable questions.

    python eval/calibrate_abstention.py --limit 1500 --held-out 8
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from qa.config import Settings
from qa.evaluation.squad import load_squad, sample_cases, write_articles
from qa.extractive import ABSTAIN_BELOW, candidates
from qa.ingest import ingest
from qa.registry import get_embedder
from qa.retrieval import retrieve
from qa.store import open_index

SQUAD = Path(__file__).resolve().parent.parent.parent / "shared/bench/squad-v1.1/dev-v1.1.json.zip"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--squad", type=Path, default=SQUAD)
    parser.add_argument("--limit", type=int, default=1500)
    parser.add_argument("--held-out", type=int, default=8)
    parser.add_argument("--out", type=Path, help="write per-question scores as JSON here")
    args = parser.parse_args()

    articles = load_squad(args.squad)
    indexed = articles[: len(articles) - args.held_out]
    indexed_names = {a.file_name for a in indexed}
    cases = sample_cases(articles, args.limit)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "articles"
        write_articles(indexed, folder)
        settings = Settings(store_dir=Path(tmp) / "store")
        print(ingest([folder], settings).summary())
        index = open_index(settings)
        embedder = get_embedder(settings.embedder)
        rows = []
        for case in cases:
            found = retrieve(case.question, index, embedder, settings)
            scored = candidates(case.question, found.passages, found.query_vector, index, embedder)
            best = max((c.score for c in scored), default=0.0)
            rows.append({"answerable": case.source in indexed_names, "score": best})
    if args.out:
        args.out.write_text(json.dumps(rows))
    report(rows)


def report(rows: list[dict[str, float | bool]]) -> None:
    answerable = [float(r["score"]) for r in rows if r["answerable"]]
    unanswerable = [float(r["score"]) for r in rows if not r["answerable"]]
    print(f"{len(answerable)} answerable, {len(unanswerable)} unanswerable questions")
    best: tuple[float, float, float, float, float] | None = None
    for step in range(10, 95):
        t = step / 100
        tp = sum(s < t for s in unanswerable)
        fp = sum(s < t for s in answerable)
        precision = tp / max(tp + fp, 1)
        recall = tp / max(len(unanswerable), 1)
        f1 = 2 * precision * recall / max(precision + recall, 1e-9)
        if best is None or f1 > best[0]:
            best = (f1, t, precision, recall, fp / max(len(answerable), 1))
        if abs(t - ABSTAIN_BELOW) < 1e-9:
            print(
                f"current threshold {t:.2f}: abstention F1 {f1:.3f}, precision {precision:.3f},"
                f" recall {recall:.3f}, answerable abstained on {fp / len(answerable):.3f}"
            )
    assert best is not None
    f1, t, precision, recall, lost = best
    print(
        f"best threshold {t:.2f}: abstention F1 {f1:.3f}, precision {precision:.3f}, "
        f"recall {recall:.3f}, answerable questions abstained on {lost:.3f}"
    )


if __name__ == "__main__":
    main()
