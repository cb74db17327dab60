"""Faithfulness: the share of an answer's sentences that their citations support.

An evaluation metric (`qa.evaluation.evaluate` reports it for generative answerers): it
re-runs the grounding check of `qa.answering.grounding` over an Answer as shown to the user.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from qa.answering.claims import UNSUPPORTED_MARK, split_answer
from qa.answering.grounding import check
from qa.types import Answer, Chunk, Passage

if TYPE_CHECKING:
    from qa.models.embedders import Embedder


@dataclass(frozen=True)
class Faithfulness:
    """How many of an answer's sentences their citations support, before and after the check.

    "Before" counts what the model generated (the sentences shown plus those removed); "after"
    counts what the user sees. Sentences marked " [unsupported]" count as unsupported.
    """

    claims_before: int
    supported_before: int
    claims_after: int
    supported_after: int

    @property
    def before(self) -> float:
        """Share supported among generated sentences (1.0 when there were none)."""
        return self.supported_before / self.claims_before if self.claims_before else 1.0

    @property
    def after(self) -> float:
        """Share supported among shown sentences (1.0 when there are none)."""
        return self.supported_after / self.claims_after if self.claims_after else 1.0


def faithfulness(answer: Answer, embedder: Embedder) -> Faithfulness:
    """Re-check an Answer's sentences against the passages its citations quote.

    Works for any answerer (an extractive answer quotes its passage, so it scores 1.0). It
    applies the same tests as `check`, so for a generative answer "after" measures what the
    check let through (1.0 in "remove" mode unless citations were mis-assembled), and
    "before" counts the removed sentences as unsupported.

    Example:
        >>> f = faithfulness(a, embedder)
        >>> (f.before, f.after)
        (0.5, 1.0)
    """
    if not answer.answered:
        return Faithfulness(len(answer.removed), 0, 0, 0)
    passages = [
        Passage(
            chunk=Chunk(
                id=c.chunk_id,
                article_id="",
                source=c.source,
                index=0,
                text=c.passage or c.quote,
                start=c.passage_start if c.passage else c.start,
                end=(c.passage_start + len(c.passage)) if c.passage else c.end,
                title=c.title,
                date=c.date,
                publisher=c.publisher,
                author=c.author,
                page=c.page,
            ),
            score=1.0,
        )
        for c in sorted(answer.citations, key=lambda c: c.n)
    ]
    shown_text = split_answer(answer.text)
    marked = [UNSUPPORTED_MARK.strip() in s for s in shown_text]
    result = check(answer.text.replace(UNSUPPORTED_MARK, ""), passages, embedder)
    verdicts = [s for s in result.sentences if not s.abstains]
    supported = sum(
        1 for s, m in zip(result.sentences, marked, strict=False) if s.supported and not m
    )
    hidden = max(len(answer.removed) - sum(marked), 0)  # marked ones are shown
    return Faithfulness(len(verdicts) + hidden, supported, len(verdicts), supported)
