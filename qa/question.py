"""What a question asks for: its answer type and its key terms (names, numbers, dates, quotes).

The type comes from the question's words ("how many" -> number, "in what year" -> date, "which
three countries" -> a list of places); the key terms are what a sentence must not contradict
or lack to answer it: a name, a number, a date or a quoted phrase of the question. Questions
about an article itself ("who wrote the article", "which outlet published it", "when was it
published") ask for its header: author, publisher or date.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from qa.text import MONTHS, STOPWORDS, fold, prior_weight, query_terms, stem, tokens

KINDS = (
    "person",
    "organisation",
    "place",
    "date",
    "number",
    "list",
    "author",
    "publisher",
    "published",
    "other",
)
HEADER_KINDS = ("author", "publisher", "published")
"""Kinds answered by an article's header rather than its body."""

# fmt: off
NUMBER_WORDS = frozenset((
    "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
    "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
    "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety", "hundred",
    "thousand", "million", "billion", "trillion", "dozen", "dozens", "hundreds", "thousands",
    "millions", "billions", "half", "once", "twice", "first", "second", "third", "fourth",
    "fifth", "sixth", "seventh", "eighth", "ninth", "tenth", "percent",
))
_COUNTS = {w: n for n, w in enumerate((
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
))}
# fmt: on
_ARTICLE = r"(?:article|story|report|piece|news item|op-ed|column|editorial)"
_KIND_RULES: tuple[tuple[str, str], ...] = (
    (
        "author",
        rf"\b(?:who (?:wrote|authored|is the author of|penned)\b.*\b{_ARTICLE}|author|"
        rf"byline|written by|{_ARTICLE} (?:was )?(?:written|by whom))\b",
    ),
    (
        "publisher",
        r"\b(?:which|what) (?:outlet|newspaper|paper|publication|publisher|news agency|"
        r"agency|website|site|media outlet|news site|news outlet)\b|\bwho published\b|"
        rf"\bpublished (?:the|this) {_ARTICLE}\b|\bpublisher\b",
    ),
    (
        "published",
        rf"\bwhen (?:was|is) (?:the|this) {_ARTICLE}\b.*\b(?:published|written|posted|"
        rf"released)|\b(?:date|day) (?:of|was) (?:the|this) {_ARTICLE}\b|\bpublication date\b",
    ),
    (
        "number",
        r"\bhow (?:many|much|long|far|old|large|big|tall|high|often|fast|wide|deep|"
        r"heavy)\b|\bwhat (?:number|percentage|percent|share|proportion|amount|fraction)\b|"
        r"\b(?:number|count) of\b",
    ),
    (
        "date",
        r"\bwhen\b(?! it comes\b)|\b(?:what|which) (?:year|date|day|month|century|decade|time|"
        r"era|period|season)\b|\bsince (?:when|what)\b",
    ),
    (
        "list",
        r"\b(?:which|what|name|list) (?:two|three|four|five|six|seven|eight|nine|ten|"
        r"\d+)\b|\b(?:which|what) (?:[\w-]+ ){0,3}(?:countries|nations|states|cities|people|"
        r"members|groups|organizations|organisations|parties|companies|resolutions|regions|players|teams|"
        r"languages)\b",
    ),
    (
        "place",
        r"\bwhere\b|\b(?:what|which|in what|in which) (?:country|city|region|place|town|"
        r"state|province|continent|island|village|territory|area|location|capital|district|"
        r"river|street|county)\b",
    ),
    (
        "organisation",
        r"\b(?:what|which) (?:organization|organisation|group|company|alliance|"
        r"party|agency|body|institution|team|firm|bank|union|university|court|council|"
        r"government|ministry|club|band|army|force|forces)\b",
    ),
    (
        "person",
        r"\bwho\b|\bwhom\b|\bwhose\b|\b(?:what|which) (?:person|man|woman|people|"
        r"leader|president|king|queen|official|minister|player|author|scientist|general)\b",
    ),
)
_KIND_PATTERNS = tuple((kind, re.compile(rule, re.IGNORECASE)) for kind, rule in _KIND_RULES)
_NEGATION = re.compile(r"\b(?:not|never|no|none|neither|nor|without|n't)\b|n't\b", re.IGNORECASE)
_QUOTED = re.compile(r"[\"“”'‘]([^\"“”']{3,80})[\"“”'’]")
_YEAR = re.compile(r"^(?:1[0-9]{3}|20[0-9]{2})s?$")
# fmt: off
_QUESTION_OPENERS = frozenset((
    "what", "which", "who", "whom", "whose", "when", "where", "why", "how", "in", "on", "at",
    "for", "from", "by", "to", "of", "did", "does", "do", "is", "are", "was", "were", "has",
    "have", "had", "can", "could", "will", "would", "should", "name", "list", "according",
    "since",
))
# fmt: on


@dataclass(frozen=True)
class Question:
    """A question taken apart: its answer type, terms and key terms (stems)."""

    text: str
    kind: str
    terms: tuple[str, ...]
    names: tuple[str, ...]
    """Stems of the question's capitalised words (not its first word): names of things."""
    numbers: tuple[str, ...]
    dates: tuple[str, ...]
    """Years and month names."""
    quoted: tuple[str, ...]
    """Terms of phrases the question quotes."""
    negated: bool
    count: int | None
    """How many things a list question asks for ("which three countries" -> 3)."""

    @property
    def key_terms(self) -> tuple[str, ...]:
        """Terms a sentence must hold to answer: names, numbers, dates, quoted words."""
        return tuple(dict.fromkeys((*self.names, *self.numbers, *self.dates, *self.quoted)))

    @property
    def asks_header(self) -> bool:
        return self.kind in HEADER_KINDS


def kind_of(text: str) -> str:
    """The answer type of a question, one of `KINDS`."""
    for kind, pattern in _KIND_PATTERNS:
        if pattern.search(text):
            return kind
    return "other"


def analyse(text: str) -> Question:
    """Take a question apart (see `Question`)."""
    toks = tokens(text)
    names: list[str] = []
    numbers: list[str] = []
    dates: list[str] = []
    for n, t in enumerate(toks):
        raw = text[t.start : t.end]
        if t.is_number or _YEAR.match(t.word):
            (dates if _YEAR.match(t.word) else numbers).append(t.stem)
        elif t.word in MONTHS and raw[:1].isupper():
            dates.append(t.stem)
        elif (
            raw[:1].isupper()
            and t.word not in STOPWORDS | _QUESTION_OPENERS
            and (n > 0 or _is_name(t.word))
        ):
            names.append(t.stem)
    quoted = [s for q in _QUOTED.findall(text) for s in query_terms(q)]
    count_word = re.search(r"\b(?:which|what|name|list) (\w+)\b", fold(text))
    count = _COUNTS.get(count_word.group(1)) if count_word else None
    if count is None and count_word and count_word.group(1).isdigit():
        count = int(count_word.group(1))
    return Question(
        text=text,
        kind=kind_of(text),
        terms=tuple(query_terms(text)),
        names=tuple(dict.fromkeys(names)),
        numbers=tuple(dict.fromkeys(numbers)),
        dates=tuple(dict.fromkeys(dates)),
        quoted=tuple(dict.fromkeys(quoted)),
        negated=bool(_NEGATION.search(text)),
        count=count if count and count > 1 else None,
    )


def _is_name(word: str) -> bool:
    """A capitalised first word that is a name rather than an opener ("NATO ...?"); an
    adverb made of a common word ("Roughly how many ...?") is not one, "Kelly" is."""
    if word in _QUESTION_OPENERS:
        return False
    if word.endswith("ly") and prior_weight(stem(word[:-2])) < 5.0:
        return False
    return prior_weight(stem(word)) >= 4.5


def is_negated(sentence: str) -> bool:
    """Whether a sentence says "not", "never", "no" or the like."""
    return bool(_NEGATION.search(sentence))
