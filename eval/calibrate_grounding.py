"""Measure the grounding check on SQuAD v1.1 dev and print the table behind MIN_SIMILARITY.

For a fixed-seed sample of questions, two claims are built from the question's paragraph, as
a model answering from it would write them:
  copy:      the answer-bearing sentence shortened to a window around the answer;
  statement: the question turned into a statement ending with its reference answer.
Each claim is checked against its own paragraph ("supported") and against another paragraph
of the same article that lacks the answer ("unsupported": cited to the wrong passage). A third
set swaps the answer of a copy claim for another answer from the same article that the
paragraph lacks ("swapped": right passage, wrong fact), which only the lexical test can catch.

Usage: python eval/calibrate_grounding.py [--questions 1000] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import time
import zipfile
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qa.answering.claims import missing_terms
from qa.answering.grounding import passage_units
from qa.ingestion.chunking import split_sentences
from qa.models.registry import get_embedder
from qa.types import Chunk, Passage

SQUAD = Path(__file__).resolve().parents[2] / "shared/bench/squad-v1.1/dev-v1.1.json.zip"
THRESHOLDS = (0.30, 0.35, 0.40, 0.45, 0.50, 0.55, 0.60)


def passage(text: str, title: str) -> Passage:
    chunk = Chunk(
        id="p",
        article_id="a",
        source="squad",
        index=0,
        text=text,
        start=0,
        end=len(text),
        title=title.replace("_", " "),
    )
    return Passage(chunk=chunk, score=1.0)


def copy_claim(context: str, answer: str, start: int) -> str:
    for a, b in split_sentences(context):
        if a <= start < b:
            words = context[a:b].split()
            before = len(context[a:start].split())
            after = before + len(answer.split())
            window = words[max(0, before - 10) : after + 6]
            return " ".join(window).rstrip(".,;:") + "."
    return answer + "."


def statement_claim(question: str, answer: str) -> str:
    return f"{question.strip().rstrip('?').strip()}: {answer.strip().rstrip('.')}."


class CachedEmbedder:
    def __init__(self) -> None:
        self.inner = get_embedder("sentence-transformers:all-MiniLM-L6-v2")
        self.cache: dict[str, np.ndarray] = {}

    def warm(self, texts: list[str]) -> None:
        """Embed many texts in one call (sorted by length inside: far less padding)."""
        self.embed(texts)

    def embed(self, texts: list[str]) -> np.ndarray:
        new = [t for t in dict.fromkeys(texts) if t not in self.cache]
        if new:
            for t, v in zip(new, self.inner.embed(new), strict=True):
                self.cache[t] = v
        return np.stack([self.cache[t] for t in texts])


def similarity(claim: str, p: Passage, emb: CachedEmbedder) -> float:
    units = [p.chunk.text[a:b] for a, b in passage_units(p)]
    vectors = emb.embed([claim, *units])
    return float((vectors[1:] @ vectors[0]).max())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--questions", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    with zipfile.ZipFile(SQUAD) as z:
        data = json.loads(z.read("dev-v1.1.json"))["data"]
    cases = []
    for article in data:
        paragraphs = [p["context"] for p in article["paragraphs"]]
        answers = [q["answers"][0]["text"] for p in article["paragraphs"] for q in p["qas"]]
        for i, p in enumerate(article["paragraphs"]):
            for q in p["qas"]:
                cases.append((article["title"], paragraphs, answers, i, q))
    rng = random.Random(args.seed)
    rng.shuffle(cases)
    emb = CachedEmbedder()
    plan: list[tuple[str, str, Passage]] = []  # (kind, claim, cited passage)
    for title, paragraphs, answers, i, q in cases[: args.questions]:
        context = paragraphs[i]
        ans = q["answers"][0]
        own = passage(context, title)
        others = [j for j, c in enumerate(paragraphs) if j != i and ans["text"] not in c]
        other = passage(paragraphs[rng.choice(others)], title) if others else None
        claims = [
            copy_claim(context, ans["text"], ans["answer_start"]),
            statement_claim(q["question"], ans["text"]),
        ]
        for claim in claims:
            plan.append(("supported", claim, own))
            if other is not None:
                plan.append(("unsupported", claim, other))
        swaps = [a for a in answers if a not in context and re.search(r"[A-Z0-9]", a)]
        if swaps:
            swapped = claims[0].replace(ans["text"], rng.choice(swaps), 1)
            if swapped != claims[0]:
                plan.append(("swapped", swapped, own))
    started = time.perf_counter()
    texts = [claim for _, claim, _ in plan]
    for _, _, p in plan:
        texts.extend(p.chunk.text[a:b] for a, b in passage_units(p))
    emb.warm(list(dict.fromkeys(texts)))
    rows: dict[str, list[tuple[float, bool]]] = {"supported": [], "unsupported": [], "swapped": []}
    for kind, claim, p in plan:
        rows[kind].append((similarity(claim, p, emb), not missing_terms(claim, [p])))
    seconds = time.perf_counter() - started
    print(
        f"{args.questions} questions, seed {args.seed}, {seconds:.0f}s; "
        + ", ".join(f"{k}: {len(v)} claims" for k, v in rows.items())
    )
    lexical = {k: np.mean([ok for _, ok in v]) for k, v in rows.items()}
    print("lexical test alone keeps: " + ", ".join(f"{k} {v:.3f}" for k, v in lexical.items()))
    print(f"{'threshold':>9}  " + "  ".join(f"{k + ' sim':>15} {k + ' both':>16}" for k in rows))
    for t in THRESHOLDS:
        cells = []
        for v in rows.values():
            sim = np.mean([s >= t for s, _ in v])
            both = np.mean([s >= t and ok for s, ok in v])
            cells.append(f"{sim:15.3f} {both:16.3f}")
        print(f"{t:9.2f}  " + "  ".join(cells))
    for k, v in rows.items():
        s = np.array([x for x, _ in v])
        print(
            f"{k}: similarity mean {s.mean():.3f}, p5 {np.percentile(s, 5):.3f}, "
            f"p50 {np.median(s):.3f}, p95 {np.percentile(s, 95):.3f}"
        )


if __name__ == "__main__":
    main()
