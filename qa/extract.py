"""The extractive answerer: the retrieved sentences that answer the question, quoted exactly.

Each sentence of the retrieved passages is scored by how close it is to the question in
embedding space and by how much of the question's IDF-weighted vocabulary it covers. The best
one (and a neighbour that covers question words the first misses) is the answer, quoted
verbatim with a numbered citation. When even the best sentence is weakly supported the answer
abstains: the threshold was set on SQuAD questions asked of a corpus that lacks their article
(see `eval/calibrate_abstention.py`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from qa.chunking import split_sentences
from qa.store import STOPWORDS
from qa.types import Answer, Citation, Passage

if TYPE_CHECKING:
    from qa.backends import Embedder
    from qa.store import Index

NOT_IN_CORPUS = "The corpus does not say: none of the indexed articles answers this question."

COSINE_WEIGHT = 0.5
COVERAGE_WEIGHT = 0.5
ABSTAIN_BELOW = 0.44
"""Support score under which the answerer abstains. Measured by eval/calibrate_abstention.py
(SQuAD, 40 articles indexed, 1,500 questions of which 223 ask about the 8 left out): best F1
of abstaining, 0.84 (precision 0.80, recall 0.89), abstaining on 4% of answerable questions."""
SECOND_SENTENCE_GAIN = 0.25
"""Share of the question's words a neighbouring sentence must add to be quoted too."""
PRESELECT = 6


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    import Stemmer

    # The same Porter algorithm as SQLite FTS5's `porter` tokenizer, so document
    # frequencies can be read from the keyword index.
    return Stemmer.Stemmer("porter")


def stems(text: str) -> list[str]:
    """Porter stems of the content words of `text`, in order, without duplicates."""
    words = [w for w in re.findall(r"[^\W_]+", text.lower()) if w not in STOPWORDS]
    return list(dict.fromkeys(_stemmer().stemWords(words)))


@dataclass(frozen=True)
class Candidate:
    """A sentence of a retrieved passage, with article offsets and scores."""

    passage: int
    start: int
    end: int
    text: str
    cosine: float
    coverage: float
    covered: frozenset[str]

    @property
    def score(self) -> float:
        return COSINE_WEIGHT * self.cosine + COVERAGE_WEIGHT * self.coverage


def candidates(
    question: str,
    passages: Sequence[Passage],
    query_vector: Any,
    index: Index,
    embedder: Embedder,
) -> list[Candidate]:
    """Every distinct sentence of the passages, scored against the question."""
    spans: list[tuple[int, int, int, str]] = []
    seen: set[tuple[str, int]] = set()
    for n, p in enumerate(passages):
        c = p.chunk
        for a, b in split_sentences(c.text):
            if (c.source, c.start + a) in seen:
                continue  # overlapping chunks repeat sentences
            seen.add((c.source, c.start + a))
            spans.append((n, c.start + a, c.start + b, c.text[a:b]))
    if not spans:
        return []
    q = stems(question)
    df = index.doc_freqs(q)
    total = max(index.count(), 1)
    idf = {t: math.log(1 + (total - df.get(t, 0) + 0.5) / (df.get(t, 0) + 0.5)) for t in q}
    mass = sum(idf.values()) or 1.0
    lexical = []
    for *_, text in spans:
        covered = frozenset(q).intersection(stems(text))
        lexical.append((sum(idf[t] for t in covered) / mass, covered))
    # Embedding every sentence costs ~6 ms each on 2 cores: embed only the most promising,
    # by word coverage with a nudge for the passage's rank.
    order = sorted(range(len(spans)), key=lambda i: -(lexical[i][0] + 0.1 / (1 + spans[i][0])))
    keep = sorted(order[:PRESELECT])
    vectors = embedder.embed([spans[i][3] for i in keep])
    cosines = vectors @ query_vector
    out = []
    for i, cos in zip(keep, cosines, strict=True):
        n, a, b, text = spans[i]
        out.append(Candidate(n, a, b, text, float(cos), lexical[i][0], lexical[i][1]))
    return out


def extract(
    question: str,
    query: str,
    passages: Sequence[Passage],
    query_vector: Any,
    index: Index,
    embedder: Embedder,
    abstain_below: float | None = None,
) -> Answer:
    """The extractive Answer to `question` from `passages`."""
    threshold = ABSTAIN_BELOW if abstain_below is None else abstain_below
    # The standalone query: a follow-up's own words ("where did he post it?") say too little.
    found = candidates(query, passages, query_vector, index, embedder)
    if not found:
        return Answer(question, NOT_IN_CORPUS, False, query=query, passages=tuple(passages))
    ranked = sorted(found, key=lambda c: (-c.score, c.passage, c.start))
    best = ranked[0]
    if best.score < threshold:
        return Answer(question, NOT_IN_CORPUS, False, query=query, passages=tuple(passages))
    chosen = [best]
    second = _neighbour(best, found, query)
    if second is not None:
        chosen = sorted([best, second], key=lambda c: c.start)
    citation = Citation.quoting(1, passages[best.passage], chosen[0].start, chosen[-1].end)
    text = f"{citation.quote} [1]"
    return Answer(question, text, True, (citation,), query=query, passages=tuple(passages))


def _neighbour(best: Candidate, found: Sequence[Candidate], question: str) -> Candidate | None:
    """The sentence next to `best` if it covers enough of what `best` misses."""
    missing = set(stems(question)) - best.covered
    if not missing:
        return None
    same = [c for c in found if c.passage == best.passage and c is not best]
    before = [c for c in same if c.end <= best.start]
    after = [c for c in same if c.start >= best.end]
    near = ([max(before, key=lambda c: c.end)] if before else []) + (
        [min(after, key=lambda c: c.start)] if after else []
    )
    share = len(stems(question)) or 1
    gains = [(len(missing & c.covered) / share, c) for c in near]
    gains = [(g, c) for g, c in gains if g >= SECOND_SENTENCE_GAIN]
    return max(gains, key=lambda gc: gc[0])[1] if gains else None
