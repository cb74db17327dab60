"""Fit the answer-or-abstain model (`qa/data/decision.json`) on SQuAD 2.0, by article.

1. The 10 articles of `dev-v2.0-part1` are ingested together (as `qa eval --squad2` does) and
   every question goes through the real pipeline: retrieval, candidate sentences, features
   (`qa.extractive.candidates`). A candidate is positive when it holds a reference answer; the
   candidates of unanswerable questions are all negative. Features are cached by data hash.
2. Articles are split into 5 folds of 2. For each fold a model is fitted on the other 8
   articles, its threshold chosen on those 8 alone (the most answerable questions answered
   rightly while at least `--min-abstained` (0.55) of the unanswerable ones are refused; or
   the most refused with `--min-right` right; else the best sum of both rates), and then
   scored on the fold's questions, which it never saw. The
   held-out figures printed are pooled over the folds: answerable right / wrong / refused,
   unanswerable abstained.
3. Candidate models are compared on the same folds (logistic regression, gradient boosting);
   the shipped one is logistic regression fitted on all 10 articles, with the threshold
   chosen the same way on the held-out probabilities of step 2.

    python eval/train_decision.py                       # compare, then write qa/data/decision.json
    python eval/train_decision.py --no-write --folds-out /tmp/folds   # per-fold models too
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import numpy as np

from qa.config import Settings
from qa.decision import FEATURES, DecisionModel
from qa.evaluation.metrics import normalize_answer
from qa.evaluation.squad import load_squad, write_articles
from qa.extractive import candidates
from qa.ingest import ingest
from qa.question import analyse
from qa.registry import get_embedder
from qa.retrieval import retrieve
from qa.store import open_index

ROOT = Path(__file__).resolve().parent.parent
SQUAD2 = ROOT.parent / "shared/bench/squad-v2.0/dev-v2.0-part1.json.zip"
OUT = ROOT / "qa" / "data" / "decision.json"
CACHE = Path.home() / ".cache" / "qa" / "decision-features"
FOLDS = 5


def data_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def build_rows(path: Path, settings_base: Settings) -> list[dict]:
    """One row per question: article, answerable, and its candidates' features and labels."""
    articles = load_squad(path)
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="qa-decision-") as tmp:
        folder = Path(tmp) / "articles"
        write_articles(articles, folder)
        settings = settings_base.replace(store_dir=Path(tmp) / "store", collection="squad2")
        print(ingest([folder], settings).summary(), file=sys.stderr)
        index = open_index(settings)
        embedder = get_embedder(settings.embedder, settings.store_dir / "models")
        started = time.perf_counter()
        cases = [c for a in articles for c in a.cases]
        for n, case in enumerate(cases, start=1):
            found = retrieve(case.question, index, embedder, settings)
            asked = analyse(case.question)
            refs = [normalize_answer(r) for r in case.answers if r.strip()]
            cands = candidates(asked, found.passages, found.query_vector, index, embedder)
            rows.append(
                {
                    "id": case.id,
                    "article": case.source,
                    "answerable": case.answerable,
                    "kind": asked.kind,
                    "question": case.question,
                    "texts": [c.text for c in cands],
                    "features": [list(c.features) for c in cands],
                    "labels": [
                        int(any(r in normalize_answer(c.text) for r in refs)) for c in cands
                    ],
                }
            )
            if n % 500 == 0:
                rate = n / (time.perf_counter() - started)
                print(f"{n}/{len(cases)} questions ({rate:.1f}/s)", file=sys.stderr)
        index.close()
    return rows


def load_rows(path: Path, settings: Settings, refresh: bool) -> list[dict]:
    key = f"{data_hash(path)}-{settings.embedder.replace(':', '_')}-{len(FEATURES)}-v3"
    cache = CACHE / f"{key}.json.gz"
    if cache.exists() and not refresh:
        return json.loads(gzip.decompress(cache.read_bytes()))
    rows = build_rows(path, settings)
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_bytes(gzip.compress(json.dumps(rows).encode()))
    return rows


def stack(rows: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    x = [f for r in rows for f in r["features"]]
    y = [label for r in rows for label in r["labels"]]
    width = len(next(r["features"][0] for r in rows if r["features"]))
    return np.asarray(x, dtype=float).reshape(-1, width), np.asarray(y)


def fit(kind: str, x: np.ndarray, y: np.ndarray):
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if kind == "logistic":
        model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000))
    elif kind == "boosting":
        model = HistGradientBoostingClassifier(
            max_iter=200, learning_rate=0.05, max_leaf_nodes=15, min_samples_leaf=40
        )
    else:
        raise ValueError(kind)
    return model.fit(x, y)


def outcomes(model, rows: list[dict]) -> list[tuple[bool, float, bool]]:
    """Per question: (answerable, best candidate's probability, best candidate is right)."""
    out = []
    for r in rows:
        if not r["features"]:
            out.append((r["answerable"], 0.0, False))
            continue
        p = model.predict_proba(np.asarray(r["features"], dtype=float))[:, 1]
        best = int(np.argmax(p))
        out.append((r["answerable"], float(p[best]), bool(r["labels"][best])))
    return out


def rates(results: list[tuple[bool, float, bool]], t: float) -> dict[str, float]:
    answerable = [(p, ok) for a, p, ok in results if a]
    unanswerable = [p for a, p, _ in results if not a]
    right = sum(p >= t and ok for p, ok in answerable) / max(len(answerable), 1)
    wrong = sum(p >= t and not ok for p, ok in answerable) / max(len(answerable), 1)
    abstained = sum(p < t for p in unanswerable) / max(len(unanswerable), 1)
    return {"right": right, "wrong": wrong, "refused": 1 - right - wrong, "abstained": abstained}


def choose_threshold(
    results: list[tuple[bool, float, bool]],
    min_right: float | None = None,
    min_abstained: float | None = None,
) -> float:
    """The threshold answering best on both kinds of question: the most answerable questions
    answered rightly plus unanswerable ones refused (each a share of its kind). With
    `min_right`, the threshold refusing most unanswerables among those keeping at least that
    share of answerables right; with `min_abstained`, the one answering most answerables
    rightly among those refusing at least that share of unanswerables (when one does)."""
    grid = [t / 200 for t in range(1, 200)]
    table = {t: rates(results, t) for t in grid}
    if min_right is not None:
        ok = [t for t in grid if table[t]["right"] >= min_right]
        if ok:
            return max(ok, key=lambda t: (table[t]["abstained"], -t))
    if min_abstained is not None:
        ok = [t for t in grid if table[t]["abstained"] >= min_abstained]
        if ok:
            return max(ok, key=lambda t: (table[t]["right"], -t))
    return max(grid, key=lambda t: (table[t]["right"] + table[t]["abstained"], -t))


def folds_of(rows: list[dict]) -> list[tuple[list[dict], list[dict], list[str]]]:
    """(training rows, held-out rows, held-out articles) of each fold: articles by name,
    fold f holding every `FOLDS`-th from the f-th."""
    by_article: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_article[r["article"]].append(r)
    names = sorted(by_article)
    out = []
    for fold in range(FOLDS):
        test_names = names[fold::FOLDS]
        train = [r for a in names if a not in test_names for r in by_article[a]]
        test = [r for a in test_names for r in by_article[a]]
        out.append((train, test, test_names))
    return out


def with_reader(rows: list[dict], logits: dict[str, list[float]] | None) -> list[dict]:
    """Rows whose reader features are the out-of-fold logits (0 without them)."""
    first = FEATURES.index("reader")
    out = []
    for r in rows:
        read = (logits or {}).get(r["id"], [0.0] * len(r["features"]))
        features = []
        for n, f in enumerate(r["features"]):
            others = read[:n] + read[n + 1 :]
            features.append([*f[:first], read[n], read[n] - max(others, default=0.0)])
        out.append(r | {"features": features})
    return out


def cross_validate(
    kind: str,
    rows: list[dict],
    rule: dict[str, float | None],
    folds_out: Path | None,
) -> tuple[dict[str, float], dict[str, tuple[float, dict[str, float]]], list]:
    """Held-out rates pooled at each fold's own threshold, per fold, and the raw held-out
    outcomes (answerable, probability, right)."""
    pooled: list[tuple[bool, float, bool]] = []
    raw: list[tuple[bool, float, bool]] = []
    held_out: dict[str, tuple[float, dict[str, float]]] = {}
    for fold, (train, test, test_names) in enumerate(folds_of(rows)):
        model = fit(kind, *stack(train))
        t = choose_threshold(outcomes(model, train), **rule)
        results = outcomes(model, test)
        raw.extend(results)
        # Re-express held-out probabilities relative to this fold's threshold, so pooled
        # figures at 0.5 are each fold's own operating point.
        pooled.extend((a, 0.5 + (p - t) / 2, ok) for a, p, ok in results)
        held_out[",".join(test_names)] = (t, rates(results, t))
        if folds_out is not None and kind == "logistic":
            folds_out.mkdir(parents=True, exist_ok=True)
            (folds_out / f"fold{fold}.json").write_text(
                json.dumps(export(model, t, {"held_out": test_names}).to_dict(), indent=1)
            )
    return rates(pooled, 0.5), held_out, raw


def export(model, threshold: float, info: dict) -> DecisionModel:
    scaler, lr = model.steps[0][1], model.steps[-1][1]
    return DecisionModel(
        features=FEATURES,
        mean=tuple(float(v) for v in scaler.mean_),
        scale=tuple(float(v) for v in scaler.scale_),
        coef=tuple(float(v) for v in lr.coef_[0]),
        intercept=float(lr.intercept_[0]),
        threshold=round(threshold, 3),
        info=info,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--squad2", type=Path, default=SQUAD2)
    parser.add_argument(
        "--min-right",
        type=float,
        help="choose the threshold refusing most unanswerables with at least this share of "
        "answerables right (default: the best sum of right and abstained)",
    )
    parser.add_argument(
        "--min-abstained",
        type=float,
        default=0.55,
        help="choose the threshold answering most answerables rightly while refusing at least "
        "this share of unanswerables (default 0.55, the abstention target; 0 for the best sum)",
    )
    parser.add_argument("--refresh", action="store_true", help="recompute cached features")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--folds-out", type=Path, help="write each fold's model here")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument(
        "--reader-logits",
        type=Path,
        help="out-of-fold reader logits (eval/train_reader.py --folds); without them the "
        "reader features are 0",
    )
    parser.add_argument("--models", default="logistic,boosting", help="models to cross-validate")
    args = parser.parse_args()

    settings = Settings(store_dir=Path(tempfile.gettempdir()))
    logits = json.loads(args.reader_logits.read_text()) if args.reader_logits else None
    rows = load_rows(args.squad2, settings, args.refresh)
    if logits is not None:
        # Only questions with out-of-fold logits: a reader feature of 0 elsewhere would teach
        # the model that the reader says nothing.
        rows = with_reader([r for r in rows if r["id"] in logits], logits)
        articles = {r["article"] for r in rows}
        print(f"reader logits for {len(rows)} questions of {len(articles)} articles")
    answerable = [r for r in rows if r["answerable"]]
    reachable = sum(any(r["labels"]) for r in answerable) / len(answerable)
    print(
        f"{len(rows)} questions, {len(answerable)} answerable; a right sentence among the "
        f"scored candidates for {reachable:.3f} of them"
    )
    rule = {"min_right": args.min_right, "min_abstained": args.min_abstained or None}
    held: dict[str, list] = {}
    for kind in args.models.split(","):
        pooled, folds, held[kind] = cross_validate(kind, rows, rule, args.folds_out)
        print(
            f"\n{kind}: held-out, pooled over {FOLDS} folds of 2 articles: "
            + "  ".join(f"{k} {v:.3f}" for k, v in pooled.items())
        )
        for names, (t, r) in folds.items():
            print(f"  {names[:60]:60s} t={t:.3f} " + " ".join(f"{k} {v:.3f}" for k, v in r.items()))
    t = choose_threshold(held["logistic"], **rule)
    print(f"\nheld-out at the chosen threshold {t:.3f}: " + "  ".join(
        f"{k} {v:.3f}" for k, v in rates(held["logistic"], t).items()))  # fmt: skip
    if logits is not None:
        return  # a comparison only: the shipped model has no reader features
    model = fit("logistic", *stack(rows))
    # The threshold is chosen on held-out probabilities (each question scored by a model that
    # never saw its article), which are less sure of themselves than training ones.
    curve = [(x / 20, rates(held["logistic"], x / 20)) for x in range(1, 20)]
    print("\nheld-out rates by threshold (logistic):")
    for x, r in curve:
        print(f"  t={x:.2f} " + " ".join(f"{k} {v:.3f}" for k, v in r.items()))
    info = {
        "trained_on": f"{args.squad2.name} (sha256 of the zip {data_hash(args.squad2)})",
        "command": " ".join(["python eval/train_decision.py", *sys.argv[1:]]),
        "embedder": settings.embedder,
        "min_right": args.min_right,
        "min_abstained": args.min_abstained,
        "questions": len(rows),
    }
    final = export(model, t, info)
    print(
        f"\nshipped: logistic on all {len(rows)} questions, threshold {final.threshold}; "
        + "  ".join(f"{k} {v:.3f}" for k, v in rates(outcomes(model, rows), t).items())
        + " (training figures)"
    )
    for name, w in sorted(zip(FEATURES, final.coef, strict=True), key=lambda x: -abs(x[1])):
        print(f"  {name:20s} {w:+.3f}")
    if not args.no_write:
        args.out.write_text(json.dumps(final.to_dict(), indent=1) + "\n")
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
