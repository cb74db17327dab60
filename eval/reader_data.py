"""Training examples for the reader (`eval/train_reader.py`): SQuAD questions with a passage.

- every question of the SQuAD v1.0 training articles with its own paragraph (answerable);
- the same question with the most similar *other* paragraph of its article (unanswerable: what
  the product meets when retrieval brings a passage that does not hold the answer);
- the question with one of its names or numbers swapped for another of its article that its
  paragraph does not contain (unanswerable, the commonest kind of SQuAD 2.0's unanswerables);
- SQuAD 2.0 part 1 (10 development articles, real unanswerables), repeated `--part1-repeat`
  times.

A few training articles are held out (`VALIDATION`) for the learning curve. An example is
(question, passage, answer character span or None, kind).
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT.parent / "shared" / "bench"
TRAIN = BENCH / "squad-v1.0-train" / "train-v1.0.json.zip"
PART1 = BENCH / "squad-v2.0" / "dev-v2.0-part1.json.zip"
PART2 = BENCH / "squad-v2.0" / "dev-v2.0-part2.json.zip"
VALIDATION = 12
"""Training articles held out of training for the learning curve (chosen by seed 0)."""

_WORD = re.compile(r"[a-z0-9]+")
_NUMBER = re.compile(r"\b\d[\d,.]*\b")
_NAME = re.compile(r"(?<!^)(?<![.?!] )\b[A-Z][a-z]+(?:\s+(?:of\s+|the\s+)?[A-Z][a-z]+)*")
_STOP = frozenset(
    re.findall(
        r"\w+",
        "the a an of in on at to for by with and or is was were are be been what which who "
        "whom whose when where why how did does do that this as from it its his her their",
    )
)


@dataclass(frozen=True)
class Example:
    """A question and a passage; `span` is the answer's character span, None if unanswerable."""

    question: str
    passage: str
    span: tuple[int, int] | None
    kind: str
    article: str


def load(path: Path) -> list[dict]:
    """The `data` list of a zipped SQuAD JSON file."""
    with zipfile.ZipFile(path) as archive:
        return json.loads(archive.read(archive.namelist()[0]))["data"]


def data_hash(path: Path) -> str:
    """sha256 of the unzipped JSON (the figure the bench READMEs give)."""
    with zipfile.ZipFile(path) as archive:
        return hashlib.sha256(archive.read(archive.namelist()[0])).hexdigest()


def split_articles(seed: int = 0) -> tuple[list[dict], list[dict]]:
    """(training articles, validation articles) of the SQuAD v1.0 training file."""
    articles = load(TRAIN)
    held = set(random.Random(seed).sample(range(len(articles)), VALIDATION))
    return (
        [a for i, a in enumerate(articles) if i not in held],
        [a for i, a in enumerate(articles) if i in held],
    )


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP}


def _nearest_other(question: str, own: int, paragraphs: list[str], words: list[set[str]]) -> int:
    asked = _words(question)
    scores = [(len(asked & w), -i) for i, w in enumerate(words)]
    scores[own] = (-1, 0)
    return -max(scores)[1]


def _pools(article: list[str]) -> dict[re.Pattern[str], list[str]]:
    """The article's numbers and names (a name found only at a sentence start is left out:
    "With", "European")."""
    names = {m.group(0) for text in article for m in _NAME.finditer(text)}
    return {
        _NUMBER: sorted({m.group(0) for text in article for m in _NUMBER.finditer(text)}),
        _NAME: sorted(n for n in names if len(n) > 3),
    }


def _swapped(
    question: str, paragraph: str, pools: dict[re.Pattern[str], list[str]], rng: random.Random
) -> str | None:
    """The question with one name or number replaced by another of the same shape (as many
    words, as many digits) from its article that the paragraph does not contain, or None."""
    found = [(m, p) for p in (_NUMBER, _NAME) for m in p.finditer(question)]
    rng.shuffle(found)
    lower = paragraph.lower()
    for match, pattern in found:
        old = match.group(0)
        pool = [
            new
            for new in pools[pattern]
            if new != old and _shape(new) == _shape(old) and new.lower() not in lower
        ]
        if pool:
            return question[: match.start()] + rng.choice(pool) + question[match.end() :]
    return None


def _shape(text: str) -> tuple[int, int]:
    return len(text.split()), sum(ch.isdigit() for ch in text)


def squad_examples(
    articles: list[dict], rng: random.Random, *, other: float, swap: float
) -> Iterator[Example]:
    """Answerable examples, and a share `other` / `swap` of unanswerable ones per question."""
    for article in articles:
        title = article["title"]
        paragraphs = [p["context"] for p in article["paragraphs"]]
        words = [_words(p) for p in paragraphs]
        pools = _pools(paragraphs)
        for n, paragraph in enumerate(article["paragraphs"]):
            context = paragraph["context"]
            for q in paragraph["qas"]:
                answer = q["answers"][0]
                start = answer["answer_start"]
                span = (start, start + len(answer["text"]))
                yield Example(q["question"], context, span, "answerable", title)
                if len(paragraphs) > 1 and rng.random() < other:
                    m = _nearest_other(q["question"], n, paragraphs, words)
                    if answer["text"].lower() not in paragraphs[m].lower():
                        yield Example(q["question"], paragraphs[m], None, "other", title)
                if rng.random() < swap:
                    changed = _swapped(q["question"], context, pools, rng)
                    if changed is not None:
                        yield Example(changed, context, None, "swapped", title)


def squad2_examples(path: Path) -> Iterator[Example]:
    """The questions of a SQuAD 2.0 file with their paragraphs (unanswerable: span None)."""
    for article in load(path):
        for paragraph in article["paragraphs"]:
            context = paragraph["context"]
            for q in paragraph["qas"]:
                if q.get("is_impossible") or not q["answers"]:
                    yield Example(q["question"], context, None, "squad2-none", article["title"])
                    continue
                answer = q["answers"][0]
                span = (answer["answer_start"], answer["answer_start"] + len(answer["text"]))
                yield Example(q["question"], context, span, "squad2", article["title"])


def training_set(
    *, seed: int, other: float, swap: float, part1_repeat: int, limit: int | None
) -> list[Example]:
    """The shuffled training examples (the first `limit` SQuAD questions' worth, if set)."""
    rng = random.Random(seed)
    train, _ = split_articles()
    examples = list(squad_examples(train, rng, other=other, swap=swap))
    examples += list(squad2_examples(PART1)) * part1_repeat
    rng.shuffle(examples)
    return examples[:limit] if limit else examples


def validation_set(seed: int = 1) -> list[Example]:
    """Held-out training articles: answerable, other-paragraph and swapped examples."""
    _, held = split_articles()
    return list(squad_examples(held, random.Random(seed), other=0.5, swap=0.5))


def training_articles(part1_repeat: int) -> list[str]:
    """Titles of the articles a reader trained on this set has read."""
    train, _ = split_articles()
    titles = [a["title"] for a in train]
    if part1_repeat:
        titles += [a["title"] for a in load(PART1)]
    return titles
