"""Scoring functions for evaluation: answers, retrieval, citations, abstention, latency.

Pure functions over strings and numbers, importing nothing heavy, so they can be tested on
hand-made cases. Answer comparisons use SQuAD's normalization (lower case, no punctuation,
no articles, single spaces); containment is on whole normalized tokens, so "20" does not
match "2020".
"""

from __future__ import annotations

import math
import re
import string
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_ASCII_PUNCTUATION = frozenset(string.punctuation)


def _is_punctuation(char: str) -> bool:
    # Beyond SQuAD's ASCII set: curly quotes and apostrophes occur in news text ("Georgia’s").
    return char in _ASCII_PUNCTUATION or unicodedata.category(char).startswith("P")


def normalize_answer(text: str) -> str:
    """Lower-case, drop punctuation and the articles a/an/the, collapse whitespace (SQuAD)."""
    text = "".join(c for c in text.lower() if not _is_punctuation(c))
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def _squash(text: str) -> str:
    """Collapse runs of whitespace to one space, so line breaks in chunks do not matter."""
    return " ".join(text.split())


def _contains_tokens(haystack: str, needle: str) -> bool:
    """True if normalized `needle` is a run of whole tokens in normalized `haystack`."""
    needle = normalize_answer(needle)
    if not needle:
        return False
    return f" {needle} " in f" {normalize_answer(haystack)} "


def exact_match(prediction: str, references: Sequence[str]) -> float:
    """1.0 if the normalized prediction equals a normalized reference, else 0.0."""
    norm = normalize_answer(prediction)
    return float(any(norm == normalize_answer(ref) for ref in references))


def _f1(prediction: str, reference: str) -> float:
    pred = normalize_answer(prediction).split()
    ref = normalize_answer(reference).split()
    if not pred or not ref:
        return float(pred == ref)
    same = sum((Counter(pred) & Counter(ref)).values())
    if same == 0:
        return 0.0
    precision = same / len(pred)
    recall = same / len(ref)
    return 2 * precision * recall / (precision + recall)


def token_f1(prediction: str, references: Sequence[str]) -> float:
    """SQuAD token F1 of the prediction against the best-matching reference (0.0 if none)."""
    return max((_f1(prediction, ref) for ref in references), default=0.0)


def answer_contains(prediction: str, references: Sequence[str]) -> float:
    """1.0 if some reference, normalized, appears as whole tokens inside the prediction.

    Extractive answers are whole sentences, so this is the main correctness measure.
    """
    return float(any(_contains_tokens(prediction, ref) for ref in references))


def contains_all(prediction: str, required: Sequence[str]) -> float:
    """1.0 if every required part appears (normalized, whole tokens) in the prediction.

    Used for list answers such as the four resolutions; 1.0 when nothing is required.
    """
    return float(all(_contains_tokens(prediction, part) for part in required))


def relevant_flags(passages: Sequence[str], evidence: str) -> list[bool]:
    """For each passage, whether it contains the evidence (whitespace-normalized)."""
    needle = _squash(evidence)
    if not needle:
        raise ValueError("evidence is empty: retrieval metrics need the text the answer rests on")
    return [needle in _squash(passage) for passage in passages]


def hit_at_k_flags(relevant: Sequence[bool], k: int) -> float:
    """1.0 if one of the first `k` ranked items is relevant."""
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    return float(any(relevant[:k]))


def reciprocal_rank_flags(relevant: Sequence[bool], k: int = 10) -> float:
    """1/rank of the first relevant item among the first `k`, 0.0 if there is none."""
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    for rank, is_relevant in enumerate(relevant[:k], start=1):
        if is_relevant:
            return 1.0 / rank
    return 0.0


def hit_at_k(passages: Sequence[str], evidence: str, k: int) -> float:
    """1.0 if the evidence occurs inside one of the first `k` passages (whitespace-normalized)."""
    return hit_at_k_flags(relevant_flags(passages, evidence), k)


def reciprocal_rank(passages: Sequence[str], evidence: str, k: int = 10) -> float:
    """1/rank of the first passage (of the first `k`) containing the evidence, else 0.0."""
    return reciprocal_rank_flags(relevant_flags(passages, evidence), k)


def quote_supports(quote: str, evidence: str, references: Sequence[str]) -> bool:
    """Whether a citation quote backs the answer.

    It does if it contains the evidence, lies inside the evidence (one sentence of a
    two-sentence evidence), or contains a reference answer.
    """
    quote_s, evidence_s = _squash(quote), _squash(evidence)
    if evidence_s and quote_s and (evidence_s in quote_s or quote_s in evidence_s):
        return True
    return bool(answer_contains(quote, references))


def citation_precision(quotes: Sequence[str], evidence: str, references: Sequence[str]) -> float:
    """Share of citation quotes that support the answer (see `quote_supports`); 0.0 if none."""
    if not quotes:
        return 0.0
    return sum(quote_supports(q, evidence, references) for q in quotes) / len(quotes)


def citation_recall(quotes: Sequence[str], evidence: str, references: Sequence[str]) -> float:
    """1.0 if some citation quote supports the answer (see `quote_supports`), else 0.0."""
    return float(any(quote_supports(q, evidence, references) for q in quotes))


def abstention_scores(pairs: Iterable[tuple[bool, bool]]) -> tuple[float, float]:
    """Precision and recall of abstaining, from `(answerable, answered)` pairs.

    Precision: share of abstentions that were on unanswerable cases (1.0 if it never
    abstained). Recall: share of unanswerable cases it abstained on (1.0 if there were none).
    """
    abstained = unanswerable = correct = 0
    for answerable, answered in pairs:
        abstained += not answered
        unanswerable += not answerable
        correct += not answered and not answerable
    precision = correct / abstained if abstained else 1.0
    recall = correct / unanswerable if unanswerable else 1.0
    return precision, recall


def percentile(values: Sequence[float], p: float) -> float:
    """The `p`-th percentile (0-100) with linear interpolation, as numpy's default."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= p <= 100:
        raise ValueError(f"p must be 0..100, got {p}")
    ordered = sorted(values)
    position = (len(ordered) - 1) * p / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
