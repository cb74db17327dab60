"""The grounding check: every sentence of a generated answer must be supported by what it cites.

A sentence survives when all of these hold:

1. it carries at least one `[n]` marker (the fixed abstention sentence needs none);
2. every marker names a passage that was given to the model (1..len(passages));
3. every number and every capitalised word (names, places, months) in it occurs in one of the
   passages it cites, header included (title, date, publisher, author), compared after Unicode
   normalisation, case folding, and with thousands separators and leading zeros dropped;
4. it is close to some sentence (or pair of adjacent sentences) of a cited passage in
   embedding space: cosine >= `MIN_SIMILARITY`.

`MIN_SIMILARITY` was measured with `eval/calibrate_grounding.py` on SQuAD v1.1 dev (bundled
all-MiniLM-L6-v2, 1,000 questions, seed 0). From each question's paragraph two claims were
built as a model answering from it would write them (the answer-bearing clause, shortened; the
question turned into a statement ending with its reference answer) and checked against that
paragraph ("supported", 2,000 claims) and against another paragraph of the same article that
lacks the answer ("unsupported": cited to the wrong passage, 2,000 claims). A third set swaps
the answer of a clause for another answer from the article ("swapped": right passage, wrong
fact, 997 claims). Share of claims kept:

    threshold   supported        unsupported      swapped
                sim    +lexical  sim    +lexical  sim    +lexical
      0.40      0.992  0.947     0.331  0.102     0.946  0.063
      0.45      0.988  0.942     0.226  0.081     0.907  0.061
      0.50      0.975  0.930     0.134  0.053     0.835  0.057
      0.55      0.951  0.906     0.073  0.029     0.752  0.054
      0.60      0.911  0.870     0.038  0.015     0.664  0.048

The lexical test alone keeps 95.3% / 24.2% / 6.8%. 0.50 and 0.55 tie on kept-supported minus
kept-unsupported (0.877); 0.50 is chosen because a wrongly removed sentence costs a fluent
answer while the lexical test already catches most wrong facts (the embedding test cannot: a
swapped fact stays close to its passage). Known blind spots: negation and swapped roles
between names that all occur in the passage ("the Minsk Group rejected the elections" when
NATO did) pass both tests.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from qa.chunking import split_sentences
from qa.types import Answer, Chunk, Passage, Removed

if TYPE_CHECKING:
    import numpy as np

MIN_SIMILARITY = 0.50
"""Cosine a sentence needs to some sentence of a cited passage; measured, see above."""

ABSTAIN = "The passages do not say."
"""The fixed sentence the model is told to write when the passages do not hold the answer."""

ABSTAIN_MAX_WORDS = 16
"""Longer sentences that start like an abstention are checked as claims."""

UNSUPPORTED_MARK = " [unsupported]"
"""Put before the final full stop of unsupported sentences when `Settings.grounding == "mark"`."""

# Variants small models write instead of the fixed sentence; all mean "not in the passages".
_ABSTAIN_RE = re.compile(
    r"^(?:the |these |this )?(?:given |provided )?(?:passages?|corpus|articles?|context|text)"
    r"(?: provided| given)? (?:does not|do not|don't|doesn't) "
    r"(?:say|contain|mention|answer|provide|include|state|specify|give)",
    re.IGNORECASE,
)
_MARKER = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")
_LEADING_MARKERS = re.compile(r"^((?:\s*\[\d+(?:\s*,\s*\d+)*\])+)\s*")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_CAPITALISED = re.compile(r"(?<![\w'’])[A-Z][\w'’-]*")
_WORD = re.compile(r"[\w'’-]+")
_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]

# Capitalised words that need not occur in the passage: sentence openers, and the words a
# model uses to talk about the passages themselves.
_FREE_WORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "this",
        "that",
        "these",
        "those",
        "it",
        "its",
        "they",
        "their",
        "there",
        "here",
        "he",
        "she",
        "his",
        "her",
        "we",
        "our",
        "i",
        "in",
        "on",
        "at",
        "of",
        "for",
        "from",
        "to",
        "by",
        "with",
        "as",
        "after",
        "before",
        "during",
        "since",
        "until",
        "while",
        "when",
        "where",
        "which",
        "who",
        "whom",
        "whose",
        "what",
        "why",
        "how",
        "if",
        "although",
        "though",
        "because",
        "but",
        "and",
        "or",
        "so",
        "yet",
        "also",
        "however",
        "moreover",
        "furthermore",
        "meanwhile",
        "thus",
        "therefore",
        "still",
        "then",
        "now",
        "today",
        "yes",
        "no",
        "not",
        "both",
        "each",
        "every",
        "all",
        "some",
        "many",
        "most",
        "several",
        "such",
        "only",
        "according",
        "overall",
        "instead",
        "passage",
        "passages",
        "article",
        "articles",
        "source",
        "sources",
        "corpus",
        "text",
        "answer",
        "report",
        "reports",
    ]
)


class _Embedder(Protocol):
    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class Support:
    """Where a kept sentence found its support: a span of one cited passage's chunk text."""

    passage: int
    """0-based index into the passages given to the model."""
    start: int
    end: int
    similarity: float


@dataclass(frozen=True)
class Sentence:
    """One generated sentence and the verdict on it."""

    text: str
    """As generated, markers included (leading markers moved onto the sentence before)."""
    cites: tuple[int, ...]
    """1-based passage numbers as the model wrote them, in order, without repeats."""
    supported: bool
    reason: str = ""
    """Why it is unsupported; empty when supported."""
    supports: tuple[Support, ...] = ()
    """For each cited passage, its span closest to the sentence (best first)."""
    abstains: bool = False


@dataclass(frozen=True)
class CheckResult:
    """What the check found: kept sentences, removed ones with reasons, passages used."""

    sentences: tuple[Sentence, ...]
    kept_sentences: tuple[Sentence, ...]
    """Supported sentences (plus, in "mark" mode, the unsupported ones that were marked)."""
    removed: tuple[Removed, ...]
    """Every unsupported sentence, with the reason; in "mark" mode they are also kept."""
    citations_used: tuple[int, ...]
    """0-based indexes of the passages cited by kept sentences, in order of first use."""

    @property
    def abstained(self) -> bool:
        """True when the model wrote the abstention sentence and nothing supported."""
        return any(s.abstains for s in self.sentences) and not self.supported_count

    @property
    def claim_count(self) -> int:
        """Generated sentences other than the abstention sentence."""
        return sum(1 for s in self.sentences if not s.abstains)

    @property
    def supported_count(self) -> int:
        return sum(1 for s in self.sentences if s.supported and not s.abstains)

    @property
    def faithfulness_before(self) -> float:
        """Share of generated sentences supported by their citations (1.0 when none)."""
        return self.supported_count / self.claim_count if self.claim_count else 1.0

    @property
    def faithfulness_after(self) -> float:
        """The same share over what is shown after the check (below 1.0 only in "mark" mode)."""
        shown = [s for s in self.kept_sentences if not s.abstains]
        if not shown:
            return 1.0
        return sum(1 for s in shown if s.supported) / len(shown)


def normalise(text: str) -> str:
    """Case-folded, accent-free text with typographic quotes made plain."""
    text = unicodedata.normalize("NFKD", text.replace("’", "'").replace("‘", "'"))
    return "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()


def is_abstention(sentence: str) -> bool:
    """True for the fixed abstention sentence and its common variants."""
    body = strip_markers(sentence).strip(" .!\"'")
    if len(body.split()) > ABSTAIN_MAX_WORDS:
        return False  # a claim that merely starts like an abstention
    return bool(_ABSTAIN_RE.match(body)) or normalise(body) == normalise(ABSTAIN.rstrip("."))


def strip_markers(sentence: str) -> str:
    """The sentence without its `[n]` markers and the unsupported mark."""
    text = sentence.replace(UNSUPPORTED_MARK.strip(), " ")
    text = _MARKER.sub(" ", text)
    text = re.sub(r"\s+([.,;:!?])", r"\1", text)
    return " ".join(text.split())


def markers(sentence: str) -> tuple[int, ...]:
    """The passage numbers cited in `sentence`, in order of appearance, without repeats."""
    found: list[int] = []
    for m in _MARKER.finditer(sentence):
        found.extend(int(n) for n in re.split(r"\s*,\s*", m.group(1)))
    return tuple(dict.fromkeys(found))


def split_answer(text: str) -> list[str]:
    """Sentences of a generated answer; markers written after a full stop join the sentence."""
    text = text.replace("\r", "")
    pieces = [text[a:b] for a, b in split_sentences(text)]
    out: list[str] = []
    for piece in pieces:
        lead = _LEADING_MARKERS.match(piece)
        if lead and out:
            out[-1] = f"{out[-1]} {lead.group(1).strip()}"
            piece = piece[lead.end() :]
        piece = " ".join(piece.split())
        if piece and re.search(r"\w", _MARKER.sub("", piece)):
            out.append(piece)
        elif piece and out:
            out[-1] = f"{out[-1]} {piece}"
    return out


def _numbers(text: str) -> set[str]:
    out = set()
    for raw in _NUMBER.findall(text):
        value = raw.replace(",", "")
        if value.replace(".", "").isdigit() and "." not in value:
            value = value.lstrip("0") or "0"
        out.add(value)
    return out


def _words(text: str) -> set[str]:
    words = set()
    for w in _WORD.findall(normalise(text)):
        w = w.strip("'-")
        if w.endswith("'s"):
            w = w[:-2]
        words.add(w)
        words.update(part for part in re.split(r"[-']", w) if part)
    return words


def haystack(passage: Passage) -> str:
    """What the model was shown of a passage: header and text, with the date spelled out."""
    c = passage.chunk
    parts = [c.title, c.publisher or "", c.author or "", c.date or "", c.text]
    if c.date and re.fullmatch(r"\d{4}-\d{2}-\d{2}", c.date):
        y, m, d = c.date.split("-")
        if 1 <= int(m) <= 12:
            parts.append(f"{_MONTHS[int(m) - 1]} {int(d)} {y}")
    return "\n".join(parts)


def _word_occurs(word: str, words: set[str]) -> bool:
    if word in words:
        return True
    # Demonyms and plurals: "Armenia" supports "Armenian(s)", "Azerbaijanis" "Azerbaijani".
    return any(
        min(len(word), len(w)) >= 4
        and abs(len(word) - len(w)) <= 3
        and (w.startswith(word) or word.startswith(w))
        for w in words
    )


def _claims(body: str) -> list[tuple[str, set[str]]]:
    """The numbers and capitalised words a sentence states: (as written, forms to look for)."""
    out: list[tuple[str, set[str]]] = [
        (raw, _numbers(raw)) for raw in dict.fromkeys(_NUMBER.findall(body))
    ]
    first = True
    for m in _CAPITALISED.finditer(body):
        token = m.group().strip("'’-")
        initial = first or body[: m.start()].rstrip().endswith((".", ":", '"', "“"))
        first = False
        parts = set()
        for part in re.split(r"[-'’]", normalise(token)):
            if not part or part.isdigit() or (part in _FREE_WORDS and (initial or len(part) < 3)):
                continue
            if part != "s":
                parts.add(part)
        if parts and all(token != t for t, _ in out):
            out.append((token, parts))
    return out


def _holds(forms: set[str], numbers: set[str], words: set[str]) -> bool:
    """Whether a text with these numbers and words states a claim's term (all its forms)."""
    if forms and all(f[:1].isdigit() for f in forms):
        return forms <= numbers
    return all(_word_occurs(f, words) for f in forms)


def missing_terms(sentence: str, cited: Sequence[Passage]) -> list[str]:
    """Numbers and capitalised words of `sentence` that occur in none of the `cited` passages."""
    text = "\n".join(haystack(p) for p in cited)
    numbers, words = _numbers(text), _words(text)
    return [
        raw for raw, forms in _claims(strip_markers(sentence)) if not _holds(forms, numbers, words)
    ]


def evidence_span(sentence: str, passage: Passage, near: tuple[int, int]) -> tuple[int, int]:
    """The smallest run of the passage's sentences stating every number and name of
    `sentence` that its text holds (chunk offsets), the run nearest `near` among equals.

    The check accepts a number found anywhere in the cited passage; the quote shown must hold
    it too, not only the sentence most similar to the claim. Terms found only in the header
    (title, date, publisher) cannot be quoted from the chunk and are left out.
    """
    text = passage.chunk.text
    units = split_sentences(text) or [(0, len(text))]
    held = [(_numbers(text[a:b]), _words(text[a:b])) for a, b in units]
    every = (_numbers(text), _words(text))
    needed = [forms for _, forms in _claims(strip_markers(sentence)) if _holds(forms, *every)]
    if not needed:
        return near
    best: tuple[int, int, int] | None = None  # (length, distance to near, index) -> window
    window = near
    for i in range(len(units)):
        for j in range(i, len(units)):
            numbers = set().union(*(h[0] for h in held[i : j + 1]))
            words = set().union(*(h[1] for h in held[i : j + 1]))
            if all(_holds(forms, numbers, words) for forms in needed):
                a, b = units[i][0], units[j][1]
                key = (b - a, 0 if a < near[1] and near[0] < b else 1, abs(a - near[0]))
                if best is None or key < best:
                    best, window = key, (a, b)
                break
    return window


def passage_units(passage: Passage) -> list[tuple[int, int]]:
    """Sentence spans of a passage's chunk text, plus each pair of adjacent sentences."""
    spans = split_sentences(passage.chunk.text) or [(0, len(passage.chunk.text))]
    pairs = [(spans[i][0], spans[i + 1][1]) for i in range(len(spans) - 1)]
    return spans + pairs


def _cite_list(cites: Sequence[int]) -> str:
    return " or ".join(f"[{n}]" for n in cites)


def check(
    text: str,
    passages: Sequence[Passage],
    embedder: _Embedder,
    *,
    mode: str = "remove",
    min_similarity: float = MIN_SIMILARITY,
) -> CheckResult:
    """Check every sentence of a generated answer against the passages it cites.

    Args:
        text: the generated answer, with `[n]` markers numbering `passages` from 1.
        passages: the passages the model was given, in prompt order.
        embedder: the embedding model (`.embed(list[str])` -> L2-normalised rows).
        mode: "remove" drops unsupported sentences; "mark" keeps them (marked by the
            caller) while still recording them in `removed`.
        min_similarity: cosine a sentence needs to some sentence of a cited passage.

    Example:
        >>> r = check("Armenia ignored four resolutions [1]. It won in 1995 [1].", ps, emb)
        >>> r.removed[0].reason
        "'1995' does not occur in [1]"
    """
    if mode not in ("remove", "mark"):
        raise ValueError(f"mode must be 'remove' or 'mark', got {mode!r}")
    drafts = split_answer(text)
    verdicts: list[Sentence | None] = []
    pending: list[tuple[int, str, tuple[int, ...]]] = []  # need the embedding test
    for i, sentence in enumerate(drafts):
        cites = markers(sentence)
        if is_abstention(sentence):
            verdicts.append(Sentence(sentence, cites, supported=False, abstains=True))
            continue
        bad = [n for n in cites if not 1 <= n <= len(passages)]
        if not cites:
            reason = "cites no passage"
        elif bad:
            given = f"1-{len(passages)}" if len(passages) > 1 else "1"
            which = "were" if len(bad) > 1 else "was"
            reason = f"cites {_cite_list(bad).replace(' or ', ', ')}, which {which} not given "
            reason += f"(passages {given})" if passages else "(no passages)"
        else:
            missing = missing_terms(sentence, [passages[n - 1] for n in cites])
            if missing:
                quoted = ", ".join(f"'{t}'" for t in missing)
                verb = "does" if len(missing) == 1 else "do"
                reason = f"{quoted} {verb} not occur in {_cite_list(cites)}"
            else:
                reason = ""
                pending.append((i, sentence, cites))
        verdicts.append(None if not reason else Sentence(sentence, cites, False, reason))

    if pending:
        _embedding_test(pending, passages, embedder, min_similarity, verdicts)

    sentences = tuple(v for v in verdicts if v is not None)
    supported = [s for s in sentences if s.supported]
    if mode == "remove":
        kept = tuple(supported) if supported else tuple(s for s in sentences if s.abstains)[:1]
    else:
        kept = (
            tuple(s for s in sentences if not s.abstains)
            or tuple(s for s in sentences if s.abstains)[:1]
        )
    used: list[int] = []
    for s in kept:
        if s.abstains:
            continue
        used.extend(n - 1 for n in s.cites if 1 <= n <= len(passages))
    removed = tuple(Removed(s.text, s.reason) for s in sentences if s.reason)
    return CheckResult(sentences, kept, removed, tuple(dict.fromkeys(used)))


def _embedding_test(
    pending: list[tuple[int, str, tuple[int, ...]]],
    passages: Sequence[Passage],
    embedder: _Embedder,
    min_similarity: float,
    verdicts: list[Sentence | None],
) -> None:
    cited = sorted({n - 1 for _, _, cites in pending for n in cites})
    units: list[tuple[int, int, int]] = []  # (passage index, start, end)
    for p in cited:
        units.extend((p, a, b) for a, b in passage_units(passages[p]))
    texts = [strip_markers(s) for _, s, _ in pending]
    texts += [passages[p].chunk.text[a:b] for p, a, b in units]
    vectors = embedder.embed(texts)
    claims, sources = vectors[: len(pending)], vectors[len(pending) :]
    sims = claims @ sources.T
    for row, (i, sentence, cites) in enumerate(pending):
        supports = []
        for n in cites:
            mine = [j for j, u in enumerate(units) if u[0] == n - 1]
            j = max(mine, key=lambda j: float(sims[row, j]))
            p, a, b = units[j]
            supports.append(Support(p, a, b, float(sims[row, j])))
        supports.sort(key=lambda s: -s.similarity)
        score = supports[0].similarity
        if score >= min_similarity:
            verdicts[i] = Sentence(sentence, cites, True, supports=tuple(supports))
        else:
            reason = (
                f"not close to any sentence of {_cite_list(cites)} "
                f"(similarity {score:.3f} < {min_similarity:.2f})"
            )
            verdicts[i] = Sentence(sentence, cites, False, reason, supports=tuple(supports))


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


def faithfulness(answer: Answer, embedder: _Embedder) -> Faithfulness:
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
