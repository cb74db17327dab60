"""The reader alone on SQuAD 2.0 part 2, the right paragraph given (as a model card reports it).

Each question is read with its own paragraph; the best span is compared with the references
(exact match and token F1 on answerable questions) and the no-answer decision scored at the
shipped threshold and at the best one (the official script's "best F1" threshold). No
retrieval: this is what the reader itself can do, next to published readers.

    python eval/reader_gold.py [--adapter qa/data/reader.npz] [--limit N]
"""

from __future__ import annotations

import argparse
import json
import math
import random
import time
from pathlib import Path

from reader_data import PART2, load

from qa.answering.reader import Reader, ReaderRecord, load_reader, reader_record
from qa.evaluation.metrics import exact_match, token_f1


def read_all(reader: Reader, items: list[tuple[str, str]], batch: int = 16) -> list[tuple]:
    out = []
    for i in range(0, len(items), batch):
        part = items[i : i + batch]
        for q, p in part:
            (r,) = reader.read(q, [p])
            out.append((r.score, p[r.start : r.end]))
    return out


def scores_at(rows: list[dict], record: ReaderRecord, threshold: float) -> dict[str, float]:
    """EM/F1 over all, answerable and unanswerable questions when answering from `threshold`."""
    em, f1, has_em, has_f1, no = [], [], [], [], []
    for r in rows:
        answers = record.confidence(r["score"]) >= threshold
        if r["refs"]:
            e = exact_match(r["span"], r["refs"]) if answers else 0.0
            f = token_f1(r["span"], r["refs"]) if answers else 0.0
            has_em.append(e)
            has_f1.append(f)
        else:
            e = f = 0.0 if answers else 1.0
            no.append(e)
        em.append(e)
        f1.append(f)

    def mean(xs: list[float]) -> float:
        return round(100 * sum(xs) / max(1, len(xs)), 1)

    return {"exact": mean(em), "f1": mean(f1), "HasAns_exact": mean(has_em),
            "HasAns_f1": mean(has_f1), "NoAns": mean(no)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--adapter", type=Path)
    parser.add_argument("--limit", type=int)
    args = parser.parse_args()
    reader, record = load_reader(args.adapter), reader_record(args.adapter)
    questions = [
        (q["question"], p["context"], [a["text"] for a in q["answers"]])
        for article in load(PART2)
        for p in article["paragraphs"]
        for q in p["qas"]
    ]
    if args.limit:
        questions = random.Random(0).sample(questions, args.limit)
    started = time.perf_counter()
    read = read_all(reader, [(q, p) for q, p, _ in questions])
    seconds = time.perf_counter() - started
    rows = [
        {"score": score, "span": span, "refs": refs}
        for (score, span), (_, _, refs) in zip(read, questions, strict=True)
    ]
    shipped = scores_at(rows, record, record.threshold)
    grid = sorted({record.confidence(r["score"]) for r in rows if not math.isinf(r["score"])})
    best_t = max(grid[:: max(1, len(grid) // 400)], key=lambda t: scores_at(rows, record, t)["f1"])
    print(json.dumps({
        "questions": len(rows),
        "answerable": sum(bool(r["refs"]) for r in rows),
        "seconds": round(seconds, 1),
        "at_shipped_threshold": {"threshold": round(record.threshold, 3), **shipped},
        "at_best_threshold": {"threshold": round(best_t, 3), **scores_at(rows, record, best_t)},
        "answering_everything": scores_at(rows, record, 0.0),
    }, indent=1))  # fmt: skip


if __name__ == "__main__":
    main()
