"""Words and stems: the one place text is cut into terms.

The keyword index, the header answers and the grounding check see a text through `terms()`
and `term_set()`. Words are case- and accent-folded, possessives dropped, numbers written
without thousands separators ("20,000" -> "20000"), stop words dropped and the rest
Porter-stemmed. Compounds
meet in every spelling: "cease-fire" also yields the catenation "ceasefire", and the keyword
index holds it, so "ceasefire", "cease-fire" and (at query time) "cease fire" find each other.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

# fmt: off
STOPWORDS = frozenset([
    "a", "an", "and", "are", "as", "at", "be", "been", "being", "by", "can", "could", "did",
    "do", "does", "for", "from", "had", "has", "have", "he", "her", "him", "his", "how", "i",
    "if", "in", "into", "is", "it", "its", "many", "me", "much", "my", "not", "of", "on", "or",
    "our", "she", "should", "so", "such", "than", "that", "the", "their", "them", "then",
    "there", "these", "they", "this", "those", "to", "us", "was", "we", "were", "what", "when",
    "where", "which", "while", "who", "whom", "whose", "why", "will", "with", "would", "you",
    "your",
])
# fmt: on
"""Words that carry no content for search or answer matching."""

# fmt: off
MONTHS = (
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december",
)
# fmt: on

# fmt: off
CLAIM_FREE_WORDS = frozenset([
    "a", "an", "the", "this", "that", "these", "those", "it", "its", "they", "their", "there",
    "here", "he", "she", "his", "her", "we", "our", "i", "in", "on", "at", "of", "for", "from",
    "to", "by", "with", "as", "after", "before", "during", "since", "until", "while", "when",
    "where", "which", "who", "whom", "whose", "what", "why", "how", "if", "although", "though",
    "because", "but", "and", "or", "so", "yet", "also", "however", "moreover", "furthermore",
    "meanwhile", "thus", "therefore", "still", "then", "now", "today", "yes", "no", "not", "both",
    "each", "every", "all", "some", "many", "most", "several", "such", "only", "according",
    "overall", "instead", "passage", "passages", "article", "articles", "source", "sources",
    "corpus", "text", "answer", "report", "reports",
])
# fmt: on
"""Capitalised words a generated sentence may use without its passage holding them: sentence
openers, and the words a model uses to talk about the passages themselves (see
`qa.answering.claims`)."""

_TOKEN = re.compile(r"\d+(?:,\d{3})+(?:\.\d+)?|\d+\.\d+|[^\W_]+(?:['’]s(?![^\W_]))?")
_HYPHENS = "-\u2010\u2011"
_POSSESSIVE = re.compile(r"['’]s$")


@dataclass(frozen=True)
class Token:
    """A word of a text: its folded form, its stem, and where it stands in the text."""

    word: str
    stem: str
    start: int
    end: int

    @property
    def is_number(self) -> bool:
        return self.word[:1].isdigit()


def fold(text: str) -> str:
    """Lower case without accents ("Müller" -> "muller")."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("porter")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The Porter stem of a folded word (numbers unchanged)."""
    if word[:1].isdigit():
        return word
    return str(_stemmer().stemWord(word))


def tokens(text: str) -> list[Token]:
    """Every word of `text` (stop words included), folded and stemmed, with offsets."""
    out = []
    for m in _TOKEN.finditer(text):
        raw = m.group()
        word = raw.replace(",", "") if raw[:1].isdigit() else fold(raw)
        word = _POSSESSIVE.sub("", word)  # "NATO's" is NATO
        out.append(Token(word, stem(word), m.start(), m.end()))
    return out


def _joined(text: str, a: Token, b: Token) -> bool:
    """Whether `a` and `b` are parts of one hyphenated compound ("cease-fire")."""
    return b.start - a.end == 1 and text[a.end] in _HYPHENS


def compounds(text: str, toks: list[Token] | None = None) -> list[tuple[int, int]]:
    """(first, last) token indexes of the hyphenated compounds of `text`."""
    toks = tokens(text) if toks is None else toks
    out, i = [], 0
    while i < len(toks):
        j = i
        while j + 1 < len(toks) and _joined(text, toks[j], toks[j + 1]):
            j += 1
        if j > i:
            out.append((i, j))
        i = j + 1
    return out


def _catenation(toks: list[Token], i: int, j: int) -> str:
    return stem("".join(t.word for t in toks[i : j + 1]))


def terms(text: str) -> list[str]:
    """The stems the keyword index holds for `text`: content words, then compound catenations."""
    toks = tokens(text)
    out = [t.stem for t in toks if t.word not in STOPWORDS]
    out.extend(_catenation(toks, i, j) for i, j in compounds(text, toks))
    return out


def term_set(text: str) -> frozenset[str]:
    """What `text` can match: its terms plus the catenation of each pair of adjacent words.

    The pairs let a question's "ceasefire" meet a sentence's "cease fire"; `query_terms()`
    gives a hyphenated compound of the question as its catenation only.
    """
    toks = tokens(text)
    found = {t.stem for t in toks if t.word not in STOPWORDS}
    found.update(_catenation(toks, i, j) for i, j in compounds(text, toks))
    found.update(
        stem(a.word + b.word)
        for a, b in itertools.pairwise(toks)
        if a.word not in STOPWORDS and b.word not in STOPWORDS and not a.is_number
    )
    return frozenset(found)


def query_terms(text: str) -> list[str]:
    """The distinct content stems of a question, a hyphenated compound as one catenation."""
    toks = tokens(text)
    inside: dict[int, str] = {}
    for i, j in compounds(text, toks):
        inside[i] = _catenation(toks, i, j)
        inside.update({k: "" for k in range(i + 1, j + 1)})
    out = []
    for n, t in enumerate(toks):
        term = inside.get(n, t.stem)
        if term and t.word not in STOPWORDS:
            out.append(term)
    return list(dict.fromkeys(out))


def search_terms(text: str) -> list[str]:
    """What keyword search looks for: the question's terms, compound parts and catenations."""
    toks = tokens(text)
    out = [t.stem for t in toks if t.word not in STOPWORDS]
    out.extend(_catenation(toks, i, j) for i, j in compounds(text, toks))
    return list(dict.fromkeys(out))


def adjacent_catenations(text: str) -> list[str]:
    """Catenations of adjacent content words ("cease fire" -> "ceasefir"), to try in the index."""
    toks = [t for t in tokens(text) if t.word not in STOPWORDS and not t.is_number]
    return list(dict.fromkeys(stem(a.word + b.word) for a, b in itertools.pairwise(toks)))
