"""The extractive answerer: the retrieved sentence that answers the question, quoted exactly.

Every sentence of the retrieved passages is a candidate; the most promising by the question's
weighted words (`qa.text.weights`) are embedded and described by `qa.decision` features, and
the fitted decision model gives each the probability that it answers. The likeliest is quoted
verbatim with a numbered citation (with a neighbouring sentence when that one covers what it
misses) and its `short` span picked out (`qa.short`); below the model's threshold the answer
abstains, and when the best sentence matches all but a key term of the question it says what
the corpus does say instead ("near miss"). Questions about an article itself (who wrote it,
which outlet, when) are answered from its header lines, quoted like any sentence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from qa.chunking import split_sentences
from qa.decision import DecisionModel, Match, describe, negation_mismatch
from qa.header import header_answer
from qa.question import Question, analyse
from qa.short import new_spans, pick_short
from qa.text import term_set, weights
from qa.types import Answer, Citation, Passage

if TYPE_CHECKING:
    from qa.embedders import Embedder
    from qa.reader import SpanReader
    from qa.store import Index

NOT_IN_CORPUS = "The corpus does not say: none of the indexed articles answers this question."
NEAR_MISS = "The corpus does not say that. The closest it says:"

SECOND_SENTENCE_GAIN = 0.25
"""Share of the question's weight a neighbouring sentence must add to be quoted too."""
PRESELECT = 8
"""Sentences embedded and scored per question, the best by word coverage (~6 ms each)."""
NEAR_MISS_COVERAGE = 0.75
"""A refused best sentence is shown as a near miss when it lacks one of the question's key
terms (a name, number or date) or says "not" where the question does not (or the reverse),
while covering at least this share of the weight of the question's other words."""


@dataclass(frozen=True)
class Candidate:
    """A sentence of a retrieved passage, with article offsets, its match and probability."""

    passage: int
    start: int
    end: int
    text: str
    match: Match
    features: tuple[float, ...]
    probability: float = 0.0


def _spans(passages: Sequence[Passage]) -> list[tuple[int, int, int, str]]:
    """(passage, start, end, text) of every distinct sentence, in passage order."""
    spans: list[tuple[int, int, int, str]] = []
    seen: set[tuple[str, int]] = set()
    for n, p in enumerate(passages):
        c = p.chunk
        for a, b in split_sentences(c.text):
            if (c.source, c.start + a) in seen:
                continue  # overlapping chunks repeat sentences
            seen.add((c.source, c.start + a))
            spans.append((n, c.start + a, c.start + b, c.text[a:b]))
    return spans


def _has(term: str, words: frozenset[str]) -> bool:
    """`term` or a close form of it ("armenia" / "armenian") is among `words`."""
    if term in words:
        return True
    return len(term) >= 4 and any(
        len(w) >= 4 and abs(len(w) - len(term)) <= 3 and (w.startswith(term) or term.startswith(w))
        for w in words
    )


def candidates(
    question: Question,
    passages: Sequence[Passage],
    query_vector: Any,
    index: Index,
    embedder: Embedder,
) -> list[Candidate]:
    """The most promising sentences of the passages, described for the decision model."""
    spans = _spans(passages)
    if not spans or not question.terms:
        return []
    weight = weights(list(question.terms), index.doc_freqs(question.terms), index.count())
    mass = sum(weight.values()) or 1.0
    words = [term_set(text) for *_, text in spans]

    def coverage(found: frozenset[str]) -> float:
        return sum(w for t, w in weight.items() if _has(t, found)) / mass

    keys = question.key_terms
    others = {t: w for t, w in weight.items() if t not in keys}

    first = [coverage(w) + 0.1 / (1 + spans[i][0]) for i, w in enumerate(words)]
    order = sorted(range(len(spans)), key=lambda i: (-first[i], i))
    keep = sorted(order[:PRESELECT])
    vectors = embedder.embed([spans[i][3] for i in keep])
    cosines = vectors @ query_vector
    out = []
    for i, cos in zip(keep, cosines, strict=True):
        n, a, b, text = spans[i]
        found = words[i]
        near = [words[j] for j in (i - 1, i + 1) if 0 <= j < len(spans) and spans[j][0] == n]
        around = found.union(*near)
        covered = frozenset(t for t in question.terms if _has(t, found))
        missing = [weight[t] for t in question.terms if t not in covered]
        p = passages[n]
        match = Match(
            cosine=float(cos),
            coverage=coverage(found),
            context_coverage=coverage(around),
            covered=covered,
            missing_weight=max(missing, default=0.0),
            key_missing=sum(not _has(t, found) for t in keys) / len(keys) if keys else 0.0,
            # A name or number may stand in the next sentence ("On March 23 ... It said ...").
            name_missing=any(not _has(t, around) for t in (*question.names, *question.quoted)),
            number_missing=any(not _has(t, around) for t in (*question.numbers, *question.dates)),
            type_found=bool(new_spans(question, text)),
            negation_mismatch=negation_mismatch(question, text),
            passage_rank=n,
            dense_similarity=p.dense_similarity,
            keyword_rank=p.keyword_rank,
            lead=first[i] - max((first[j] for j in keep if j != i), default=0.0),
            other_coverage=sum(w for t, w in others.items() if t in covered)
            / (sum(others.values()) or 1.0),
        )
        out.append(Candidate(n, a, b, text, match, tuple(describe(question, match))))
    return out


def extract(
    question: str,
    query: str,
    passages: Sequence[Passage],
    query_vector: Any,
    index: Index,
    embedder: Embedder,
    model: DecisionModel,
    threshold: float | None = None,
    spans: SpanReader | None = None,
) -> Answer:
    """The extractive Answer to `question` from `passages` (searched as `query`)."""
    threshold = model.threshold if threshold is None else threshold
    common: dict[str, Any] = {"query": query, "passages": tuple(passages)}
    # The standalone query: a follow-up's own words ("where did he post it?") say too little.
    asked = analyse(query)
    if asked.asks_header:
        found = header_answer(asked, passages, index)
        if found is not None:
            citation, short, confidence = found
            text = f"{citation.quote} [1]"
            return Answer(
                question, text, True, (citation,), short=short, confidence=confidence, **common
            )
    scored = [
        replace(c, probability=model.probability(c.features))
        for c in candidates(asked, passages, query_vector, index, embedder)
    ]
    if not scored:
        return Answer(question, NOT_IN_CORPUS, False, **common)
    best = max(scored, key=lambda c: (c.probability, -c.passage, -c.start))
    if best.probability < threshold:
        return _refusal(question, asked, best, passages, common)
    chosen = [best]
    second = _neighbour(best, scored, asked)
    if second is not None:
        chosen = sorted([best, second], key=lambda c: c.start)
    citation = Citation.quoting(1, passages[best.passage], chosen[0].start, chosen[-1].end)
    span = pick_short(
        asked, best.text, lambda: spans.span(asked.text, best.text) if spans else None
    )
    short = best.text[span[0] : span[1]].strip(" ,.;:") if span else ""
    return Answer(
        question,
        f"{citation.quote} [1]",
        True,
        (citation,),
        short=short,
        confidence=best.probability,
        **common,
    )


def _refusal(
    question: str,
    asked: Question,
    best: Candidate,
    passages: Sequence[Passage],
    common: dict[str, Any],
) -> Answer:
    """ "The corpus does not say", or a near miss: what it says instead, cited."""
    m = best.match
    differs = m.key_missing > 0 or m.negation_mismatch
    if m.other_coverage >= NEAR_MISS_COVERAGE and differs:
        citation = Citation.quoting(1, passages[best.passage], best.start, best.end)
        text = f"{NEAR_MISS} “{citation.quote}” [1]"
        return Answer(
            question,
            text,
            False,
            (citation,),
            confidence=best.probability,
            near_miss=True,
            **common,
        )
    return Answer(question, NOT_IN_CORPUS, False, confidence=best.probability, **common)


def _neighbour(best: Candidate, found: Sequence[Candidate], asked: Question) -> Candidate | None:
    """The sentence next to `best` if it covers enough of what `best` misses."""
    missing = set(asked.terms) - best.match.covered
    if not missing:
        return None
    same = [c for c in found if c.passage == best.passage and c is not best]
    before = [c for c in same if c.end <= best.start]
    after = [c for c in same if c.start >= best.end]
    near = ([max(before, key=lambda c: c.end)] if before else []) + (
        [min(after, key=lambda c: c.start)] if after else []
    )
    share = len(asked.terms) or 1
    gains = [(len(missing & c.match.covered) / share, c) for c in near]
    gains = [(g, c) for g, c in gains if g >= SECOND_SENTENCE_GAIN]
    return max(gains, key=lambda gc: gc[0])[1] if gains else None
