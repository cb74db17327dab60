"""Fit how the reader's scores become a confidence, and where it answers, on articles it never read.

Input: the JSON report of `qa eval --squad2 <part 2> --abstain-below 0` (every question
answered, each with its best span's confidence). The 19 articles are cut into 5 folds; for
each fold the calibration (confidence = sigmoid(scale * score + shift), a logistic fit of
"the quote answers rightly") and the threshold (the most answerable questions right with at
least `--abstain` of the unanswerable ones refused) are fitted on the other folds, and the
fold's questions decided by them. The held-out rates, pooled over folds, are printed; with
`--write` the same fit on all 19 articles goes to `qa/data/reader.json`.

    qa eval --squad2 ../shared/bench/squad-v2.0/dev-v2.0-part2.json.zip --abstain-below 0 \
        --out /tmp/part2
    python eval/fit_reader.py /tmp/part2/squad2-*.json [--write]
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from reader_data import PART2, ROOT, data_hash, load

from qa.evaluation.metrics import answer_contains

RECORD = ROOT / "qa" / "data" / "reader.json"
FOLDS = 5
NEAR_MISS_LOGITS = 2.0
"""A refused best span this close to the threshold (in logits) is quoted as a near miss."""


def logit(p: float) -> float:
    p = min(max(p, 1e-12), 1 - 1e-12)
    return math.log(p / (1 - p))


def cases(report: Path, record: dict) -> list[dict]:
    """Each question: its article, whether answerable, right at threshold 0, and its score."""
    article = {q["id"]: a["title"] for a in load(PART2) for p in a["paragraphs"] for q in p["qas"]}
    refs = {
        q["id"]: [a["text"] for a in q["answers"]]
        for a in load(PART2)
        for p in a["paragraphs"]
        for q in p["qas"]
    }
    scale, shift = record.get("scale", 1.0), record.get("shift", 0.0)
    out = []
    for c in json.loads(report.read_text())["cases"]:
        conf = c["confidence"]
        score = (logit(conf) - shift) / scale if conf > 0 else -1e9
        # Right: the best span's sentence holds a reference answer (what is quoted when it
        # answers, whatever else the answer says).
        right = c["answerable"] and answer_contains(c["quote"], refs[c["id"]]) > 0
        out.append({"article": article[c["id"]], "answerable": c["answerable"],
                    "right": bool(right), "score": score})  # fmt: skip
    return out


def calibrate(rows: list[dict]) -> tuple[float, float]:
    """(scale, shift) of a logistic fit of `right` on the score."""
    from sklearn.linear_model import LogisticRegression

    xs = [[max(r["score"], -30.0)] for r in rows]
    model = LogisticRegression(C=100.0).fit(xs, [int(r["right"]) for r in rows])
    return float(model.coef_[0][0]), float(model.intercept_[0])


def rates(rows: list[dict], threshold_score: float) -> dict[str, float]:
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    answered = [r for r in answerable if r["score"] >= threshold_score]
    return {
        "answerable_right": sum(r["right"] for r in answered) / len(answerable),
        "answerable_wrong": sum(not r["right"] for r in answered) / len(answerable),
        "answerable_refused": 1 - len(answered) / len(answerable),
        "unanswerable_abstained": sum(r["score"] < threshold_score for r in unanswerable)
        / len(unanswerable),
    }


def best_threshold(rows: list[dict], abstain: float) -> float:
    """The score threshold with the most answerable right while abstaining on >= `abstain`."""
    candidates = sorted({r["score"] for r in rows})
    best = (-1.0, candidates[-1] + 1)
    for t in candidates:
        got = rates(rows, t)
        if got["unanswerable_abstained"] >= abstain and got["answerable_right"] > best[0]:
            best = (got["answerable_right"], t)
    return best[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path)
    parser.add_argument("--abstain", type=float, default=0.70)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    record = json.loads(RECORD.read_text())
    rows = cases(args.report, record)
    titles = sorted({r["article"] for r in rows})
    folds = [titles[i::FOLDS] for i in range(FOLDS)]
    held: list[dict] = []
    pooled_decided: list[tuple[dict, bool]] = []
    for fold in folds:
        train = [r for r in rows if r["article"] not in fold]
        test = [r for r in rows if r["article"] in fold]
        t = best_threshold(train, args.abstain)
        held.append({"fold": fold, "threshold_score": t, **rates(test, t)})
        pooled_decided += [(r, r["score"] >= t) for r in test]
    answerable = [r for r, _ in pooled_decided if r["answerable"]]
    unanswerable = [r for r, _ in pooled_decided if not r["answerable"]]
    pooled = {
        "answerable_right": sum(r["right"] and d for r, d in pooled_decided) / len(answerable),
        "answerable_wrong": sum(r["answerable"] and not r["right"] and d for r, d in pooled_decided)
        / len(answerable),
        "unanswerable_abstained": sum(not r["answerable"] and not d for r, d in pooled_decided)
        / len(unanswerable),
    }
    for h in held:
        right, abstained = h["answerable_right"], h["unanswerable_abstained"]
        names = ", ".join(h["fold"])[:60]
        print(f"  fold {names:60s} t={h['threshold_score']:+.2f} right {right:.3f} "
              f"abstained {abstained:.3f}")  # fmt: skip
    print("held out, pooled over folds:", json.dumps({k: round(v, 3) for k, v in pooled.items()}))
    everything = rates(rows, -1e8)
    print("answering everything:", json.dumps({k: round(v, 3) for k, v in everything.items()}))
    if args.write:
        scale, shift = calibrate(rows)
        t = best_threshold(rows, args.abstain)

        def confidence(score: float) -> float:
            return 1 / (1 + math.exp(-(scale * score + shift)))

        record.update({
            "scale": scale,
            "shift": shift,
            "threshold": confidence(t),
            "near_miss": confidence(t - NEAR_MISS_LOGITS / max(scale, 1e-6)),
            "fitted_on": {"file": str(PART2.name), "sha256": data_hash(PART2),
                          "abstain": args.abstain, "held_out": pooled},
        })  # fmt: skip
        RECORD.write_text(json.dumps(record, indent=1) + "\n")
        print(f"wrote {RECORD}: threshold {record['threshold']:.3f} (score {t:+.2f})")


if __name__ == "__main__":
    main()
