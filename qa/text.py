"""Words, stems and their weights: the one place text is cut into terms.

The keyword index and the answerer both see a text through `terms()` and `term_set()`, so a
document frequency read from the index is the frequency of the very stem the answerer looks
up. Words are case- and accent-folded, possessives dropped, numbers written without thousands
separators ("20,000" -> "20000"), stop words dropped and the rest Porter-stemmed. Compounds
meet in every spelling: "cease-fire" also yields the catenation "ceasefire", and the keyword
index holds it, so "ceasefire", "cease-fire" and (at query time) "cease fire" find each other.

A word's weight blends a general-language prior (English word frequencies from the `wordfreq`
package, folded to our stems and shipped as `data/stem_prior.tsv.gz`; see
`eval/build_word_prior.py`) with the index's own document frequencies, so the weights of a
question's words do not swing with what else happens to be indexed.
"""

from __future__ import annotations

import gzip
import itertools
import math
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
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
"""Words that carry no content for search or answer matching ("not" is dropped here but
noticed by the answerer, see `qa.question`)."""

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
openers, and the words a model uses to talk about the passages themselves (see `qa.claims`)."""

_TOKEN = re.compile(r"\d+(?:,\d{3})+(?:\.\d+)?|\d+\.\d+|[^\W_]+(?:['’]s(?![^\W_]))?")
_HYPHENS = "-\u2010\u2011"
_POSSESSIVE = re.compile(r"['’]s$")

PRIOR_MAX = 9.0
"""Weight of a word the prior has never seen (the rarest it knows weighs about 8)."""
CORPUS_SHARE = 0.3
"""The largest share of a word's weight that comes from the index's own statistics."""
CORPUS_HALF = 2000
"""Chunks at which the index's statistics reach half of `CORPUS_SHARE`."""


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


@lru_cache(maxsize=1)
def _prior() -> dict[str, float]:
    """Stem -> Zipf frequency (log10 of uses per billion words) of English."""
    data = resources.files("qa").joinpath("data/stem_prior.tsv.gz").read_bytes()
    table: dict[str, float] = {}
    for line in gzip.decompress(data).decode("utf-8").splitlines():
        term, _, zipf = line.partition("\t")
        table[term] = int(zipf) / 100
    return table


def prior_weight(term: str) -> float:
    """How much a stem says in general English: 9 minus its Zipf frequency (1..9)."""
    if term[:1].isdigit():
        return 6.0  # a number names one fact: as telling as a rare word
    zipf = _prior().get(term)
    return PRIOR_MAX if zipf is None else max(1.0, PRIOR_MAX - zipf)


def weights(query: list[str], doc_freqs: dict[str, int], chunks: int) -> dict[str, float]:
    """Each query term's weight: the prior, blended with the index's IDF as the index grows.

    The index's share grows with its size (`CORPUS_SHARE` at most), so a one-article corpus
    does not make every word it lacks the heaviest of the question.
    """
    share = CORPUS_SHARE * chunks / (chunks + CORPUS_HALF)
    out = {}
    for t in query:
        df = doc_freqs.get(t, 0)
        # On the prior's scale: a term in every chunk weighs 1, one in no chunk PRIOR_MAX.
        idf = math.log10((chunks + 1) / (df + 1)) if chunks else 0.0
        corpus = min(PRIOR_MAX, 1.0 + 2.0 * idf)
        out[t] = (1 - share) * prior_weight(t) + share * corpus
    return out
