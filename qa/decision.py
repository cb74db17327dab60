"""The answer-or-abstain decision: how likely a sentence is to answer the question.

Each candidate sentence is described by a few numbers (`FEATURES`): how close it is to the
question in embedding space, how much of the question's weighted vocabulary it covers, whether
it holds the question's names, numbers and dates, whether it holds something of the type the
question asks for, where its passage ranked and how far it leads the runner-up. A logistic
model fitted by `eval/train_decision.py` on SQuAD 2.0 (whose unanswerable questions share the
article's words and names), cross-validated by article, turns them into the probability that
the sentence answers the question. The shipped model, its threshold, its training command and
the hash of its data are in `data/decision.json`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from qa.question import KINDS, Question, is_negated

FEATURES = (
    "cosine",
    "coverage",
    "context_coverage",
    "share_covered",
    "heaviest_missing",
    "key_missing",
    "name_missing",
    "number_missing",
    "type_found",
    "type_needed",
    "negation_mismatch",
    "passage_rank",
    "dense_similarity",
    "keyword_rank",
    "lead",
    "question_terms",
    *(f"kind_{k}" for k in KINDS),
)
"""What the model sees of a candidate sentence, in order (see `describe`)."""
MAX_TERMS = 20
"""Question terms counted (the training questions have fewer); more would let a 400-word
question push the probability past anything the model was fitted on."""


@dataclass(frozen=True)
class Match:
    """How a sentence meets a question: the raw facts the features are made of."""

    cosine: float
    coverage: float
    """Share of the question's term weight the sentence covers."""
    context_coverage: float
    """The same for the sentence with its neighbours in the passage."""
    covered: frozenset[str]
    missing_weight: float
    """Weight of the heaviest question term the sentence lacks (0..9)."""
    key_missing: float
    name_missing: bool
    number_missing: bool
    type_found: bool
    negation_mismatch: bool
    passage_rank: int
    dense_similarity: float | None
    keyword_rank: int | None
    lead: float
    """First-stage score minus the best other candidate's (how far it stands out)."""
    other_coverage: float = 0.0
    """Share of the weight of the question's terms other than its key terms covered (not a
    feature: it tells a near miss, a sentence that lacks only a name, number or date)."""


def describe(question: Question, m: Match) -> list[float]:
    """The feature vector of a match, in `FEATURES` order."""
    typed = question.kind not in ("other",)
    row = [
        m.cosine,
        m.coverage,
        m.context_coverage,
        len(m.covered) / max(len(question.terms), 1),
        m.missing_weight / 9.0,
        m.key_missing,
        float(m.name_missing),
        float(m.number_missing),
        float(m.type_found and typed),
        float(typed and not m.type_found),
        float(m.negation_mismatch),
        1.0 / (1 + m.passage_rank),
        m.dense_similarity if m.dense_similarity is not None else 0.0,
        0.0 if m.keyword_rank is None else 1.0 / m.keyword_rank,
        m.lead,
        math.log1p(min(len(question.terms), MAX_TERMS)),
    ]
    row.extend(float(question.kind == k) for k in KINDS)
    return row


def negation_mismatch(question: Question, sentence: str) -> bool:
    """The question says "not" and the sentence does not: it asks about what did not happen.
    (A negated sentence answering a plain question is common: "NATO does not recognise ...")"""
    return question.negated and not is_negated(sentence)


@dataclass(frozen=True)
class DecisionModel:
    """A fitted logistic model over `FEATURES`, and the probability it answers from."""

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    threshold: float
    """Answer when the best sentence's probability is at least this."""
    info: Mapping[str, object]

    def probability(self, row: Sequence[float]) -> float:
        """P(the sentence answers the question), in [0, 1]."""
        z = self.intercept
        for x, mu, s, w in zip(row, self.mean, self.scale, self.coef, strict=True):
            z += w * (x - mu) / s
        z = max(-30.0, min(30.0, z))
        return 1.0 / (1.0 + math.exp(-z))

    def to_dict(self) -> dict[str, object]:
        return {
            "features": list(self.features),
            "mean": list(self.mean),
            "scale": list(self.scale),
            "coef": list(self.coef),
            "intercept": self.intercept,
            "threshold": self.threshold,
            "info": dict(self.info),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object], origin: str = "") -> DecisionModel:
        names: tuple[str, ...] = tuple(data["features"])  # type: ignore[arg-type]
        if names != FEATURES:
            raise ValueError(
                f"decision model {origin} was fitted on other features ({len(names)}, "
                f"expected {len(FEATURES)}); refit it with eval/train_decision.py"
            )
        return cls(
            features=names,
            mean=tuple(map(float, data["mean"])),  # type: ignore[call-overload]
            scale=tuple(map(float, data["scale"])),  # type: ignore[call-overload]
            coef=tuple(map(float, data["coef"])),  # type: ignore[call-overload]
            intercept=float(data["intercept"]),  # type: ignore[arg-type]
            threshold=float(data["threshold"]),  # type: ignore[arg-type]
            info=dict(data.get("info", {})),  # type: ignore[call-overload]
        )

    @classmethod
    def load(cls, path: Path | None = None) -> DecisionModel:
        """The model at `path`, or the one shipped with qa."""
        if path is None:
            return shipped_model()
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise ValueError(f"{path}: not a readable decision model ({e})") from e
        return cls.from_dict(data, str(path))


@lru_cache(maxsize=1)
def shipped_model() -> DecisionModel:
    """The model in `qa/data/decision.json`."""
    raw = resources.files("qa").joinpath("data/decision.json").read_text(encoding="utf-8")
    return DecisionModel.from_dict(json.loads(raw), "qa/data/decision.json")
