"""Do the quotes of a generated answer hold what its sentences state?

Asks the eval set's answerable questions (not follow-ups or header questions) through a
generative answerer and, for every sentence it kept, checks that each number and capitalised
name the sentence states lies inside the quote of the citation it carries (`Citation.quote`,
what the reader sees highlighted), not merely somewhere in the cited passage. A term found
only in the article's header (its date or publisher) cannot be quoted from the text and is
counted apart.

    python eval/check_quotes.py                      # llamacpp:smollm2 over corpus/
    python eval/check_quotes.py --answerer openai:MODEL --limit 10
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from qa import answer
from qa.answering.claims import (
    _claims,
    _holds,
    _numbers,
    _words,
    markers,
    split_answer,
    strip_markers,
)
from qa.config import Settings
from qa.ingestion.job import ingest

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answerer", default="llamacpp:smollm2")
    parser.add_argument("--dataset", type=Path, default=ROOT / "eval" / "questions.jsonl")
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    parser.add_argument("--limit", type=int, default=0, help="questions (0: all)")
    args = parser.parse_args()

    cases = [json.loads(line) for line in args.dataset.read_text().splitlines() if line.strip()]
    cases = [
        c for c in cases if c.get("answerable", True) and c["kind"] not in ("follow_up", "header")
    ][: args.limit or None]
    with tempfile.TemporaryDirectory() as store:
        settings = Settings(store_dir=Path(store), answerer=args.answerer)
        ingest([args.corpus], settings)
        totals = {"answers": 0, "generated": 0, "sentences": 0, "terms": 0, "in_quote": 0,
                  "header_only": 0, "outside": 0}  # fmt: skip
        for case in cases:
            a = answer(case["question"], settings=settings)
            totals["answers"] += 1
            if not a.answered or a.answerer == "extractive":
                continue
            totals["generated"] += 1
            quotes = {c.n: c for c in a.citations}
            for sentence in split_answer(a.text):
                cited = [quotes[n] for n in markers(sentence) if n in quotes]
                if not cited:
                    continue
                totals["sentences"] += 1
                quoted = " ".join(c.quote for c in cited)
                header = " ".join(f"{c.title} {c.publisher or ''} {c.date or ''}" for c in cited)
                for raw, forms in _claims(strip_markers(sentence)):
                    totals["terms"] += 1
                    if _holds(forms, _numbers(quoted), _words(quoted)):
                        totals["in_quote"] += 1
                    elif _holds(forms, _numbers(header), _words(header)):
                        totals["header_only"] += 1
                    else:
                        totals["outside"] += 1
                        print(f"{case['id']}: {raw!r} not in the quote of: {sentence}")
    print(json.dumps(totals))


if __name__ == "__main__":
    main()
