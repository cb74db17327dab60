"""Whether two short answers state the same fact: numbers within rounding, dates that do not
contradict, names and lists of which one holds the other.

"20,000" and "twenty thousand", "about 40" and "41", "1.5 million" and "1,500,000" are the same
number; "41" and "57" are not. "March 12" and "12 March 2021" are the same date; "3 March" and
"12 March" are not. "Lopez" and "Maria Lopez" name the same person, "France" is one of "the
United States, Russia and France"; "John Smith" and "Jane Smith" differ.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_MONTHS = {
    m: n
    for n, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for m in names
}
_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90, "a": 1, "an": 1, "dozen": 12,
}  # fmt: skip
_SCALES = {"hundred": 100, "thousand": 1_000, "million": 1_000_000, "billion": 10**9,
           "trillion": 10**12, "k": 1_000, "m": 1_000_000, "bn": 10**9}  # fmt: skip
_WORD = re.compile(r"\d+(?:[.,]\d+)*|[a-z]+", re.IGNORECASE)
_STOP = frozenset(
    re.findall(
        r"\w+",
        "the a an of and or in on at to for by mr mrs ms dr about around nearly almost some "
        "roughly approximately more than less over under just only",
    )
)


@dataclass(frozen=True)
class Number:
    value: float
    step: float
    """What the writer rounded to: 20,000 -> 1,000s, "about 40" -> 10s, 41 -> 1, 1.5 -> 0.1."""


_HEDGES = (
    r"about|around|nearly|almost|roughly|approximately|some|more than|over|under|up to|"
    r"less than|at least|close to|an estimated|estimated"
)
_HEDGE = re.compile(rf"\b(?:{_HEDGES})\b", re.IGNORECASE)
_HEDGE_BEFORE = re.compile(rf"\b(?:{_HEDGES})\s+$", re.IGNORECASE)
_NUMBER_START = re.compile(
    r"(?:\d|(?:one|two|three|four|five|six|seven|eight|nine|ten|twenty|thirty|forty|fifty|"
    r"sixty|seventy|eighty|ninety|a hundred|hundreds|a million|a thousand|thousands)\b)",
    re.IGNORECASE,
)


def _digits(token: str, hedged: bool) -> Number | None:
    if "," in token and re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?", token):
        token = token.replace(",", "")
    elif "," in token:
        return None
    if not re.fullmatch(r"\d+(?:\.\d+)?", token):
        return None
    if "." in token:
        return Number(float(token), 10.0 ** -len(token.split(".")[1]))
    stripped = token.rstrip("0")
    zeros = len(token) - len(stripped) if stripped else 0
    # Trailing zeros say the writer rounded when they hedge ("about 40") or drop three or
    # more ("20,000"); "1,200" people is a count.
    return Number(float(token), 10.0 ** min(zeros, 3) if hedged or zeros >= 3 else 1.0)


def with_hedge(text: str, start: int) -> int:
    """Where a number's span starting at `start` begins with the hedge before it ("about" two
    million): the writer's precision is part of the answer, and tells rounding from
    disagreement."""
    if not _NUMBER_START.match(text, start):
        return start
    m = _HEDGE_BEFORE.search(text, max(0, start - 20), start)
    return m.start() if m else start


def numbers(text: str) -> list[Number]:
    """The numbers a short answer states, in digits or in words, with their scale words."""
    words = _WORD.findall(text.replace("-", " "))
    hedged = bool(_HEDGE.search(text))
    out: list[Number] = []
    i = 0
    while i < len(words):
        w = words[i].lower()
        found = _digits(w, hedged)
        j = i + 1
        if found is None and w in _UNITS and w not in ("a", "an"):
            total, current = 0.0, float(_UNITS[w])
            while j < len(words) and (words[j].lower() in _UNITS or words[j].lower() == "and"):
                nxt = words[j].lower()
                if nxt != "and":
                    current += _UNITS[nxt]
                j += 1
            while j < len(words) and words[j].lower() in ("hundred", "thousand", "million"):
                current *= _SCALES[words[j].lower()]
                j += 1
            total += current
            found = Number(total, 1.0)
        if found is not None:
            while j < len(words) and words[j].lower() in _SCALES:
                scale = _SCALES[words[j].lower()]
                found = Number(found.value * scale, found.step * scale)
                j += 1
            if not _is_year(words[i]) or j > i + 1:
                out.append(found)
        i = j
    return out


def _is_year(token: str) -> bool:
    return bool(re.fullmatch(r"1[5-9]\d\d|20\d\d", token))


Day = tuple[int | None, int | None, int | None]


def dates(text: str) -> list[Day]:
    """(year, month, day) of each date the text states; None where it does not say."""
    out: list[Day] = []
    words = [w.lower().rstrip(".") for w in _WORD.findall(text)]
    for iso in re.findall(r"\b(\d{4})-(\d{2})-(\d{2})\b", text):
        out.append((int(iso[0]), int(iso[1]), int(iso[2])))
    for i, w in enumerate(words):
        if w not in _MONTHS or (w == "may" and not _near_number(words, i)):
            continue
        day = year = None
        for k in (i - 1, i + 1):
            if 0 <= k < len(words) and re.fullmatch(r"\d{1,2}(?:st|nd|rd|th)?", words[k]):
                day = int(re.sub(r"\D", "", words[k]))
        for k in (i + 1, i + 2):
            if 0 <= k < len(words) and _is_year(words[k]):
                year = int(words[k])
        out.append((year, _MONTHS[w], day))
    if not out:
        out = [(int(y), None, None) for y in re.findall(r"\b(1[5-9]\d\d|20\d\d)\b", text)]
    return out


def _near_number(words: list[str], i: int) -> bool:
    return any(0 <= k < len(words) and words[k].isdigit() for k in (i - 1, i + 1))


def _content(text: str) -> set[str]:
    words = {w.lower() for w in re.findall(r"[\w']+", text)}
    return {w.removesuffix("'s") for w in words if w not in _STOP}


def _same_number(a: Number, b: Number) -> bool:
    step = max(a.step, b.step)
    return abs(a.value - b.value) <= step / 2 + 1e-9


def _compatible(a: Day, b: Day) -> bool:
    return all(x is None or y is None or x == y for x, y in zip(a, b, strict=True))


_FRACTIONS = (
    (re.compile(r"\b(?:a |one )?half\b", re.I), 50.0),
    (re.compile(r"\b(?:a|one)[ -]third\b", re.I), 100 / 3),
    (re.compile(r"\btwo[ -]thirds\b", re.I), 200 / 3),
    (re.compile(r"\b(?:a|one)[ -]quarter\b|\bone in four\b", re.I), 25.0),
    (re.compile(r"\bthree[ -]quarters\b|\bthree in four\b", re.I), 75.0),
    (re.compile(r"\bone in (?:ten|10)\b", re.I), 10.0),
)
_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s*(?:%|per ?cent)", re.I)
_NAME_WORD = re.compile(r"\b[A-Z][\w'’-]*")


def _share(text: str) -> Number | None:
    """A share stated as a percentage ("67 per cent") or a fraction ("two-thirds", "one in
    four"), in per cent; a fraction is as precise as a rounding to 5 points either way."""
    if m := _PERCENT.search(text):
        return _digits(m.group(1), bool(_HEDGE.search(text)))
    for pattern, value in _FRACTIONS:
        if pattern.search(text):
            return Number(value, 10.0)
    return None


def _names(text: str) -> set[str]:
    """Capitalised words but for a first word that is a common one ("An amateur ...")."""
    found = _NAME_WORD.findall(text)
    if found and text.lstrip().startswith(found[0]) and found[0].lower() in _STOP | set(_UNITS):
        found = found[1:]
    return {w.lower().removesuffix("'s").removesuffix("’s") for w in found}


def same_fact(a: str, b: str) -> bool:
    """Whether short answers `a` and `b` state the same fact (see the module docstring).

    Only answers of one kind can contradict each other: two dates, two numbers (or shares),
    two names. A date against a holiday's name, a number against words ("a century"), or
    two descriptions in other words ("a collie", "a search dog") are not a disagreement."""
    da, db = dates(a), dates(b)
    if da and db:
        return any(_compatible(x, y) for x in da for y in db)
    if da or db:
        return True
    sa, sb = _share(a), _share(b)
    if sa and sb:
        return _same_number(sa, sb)
    na, nb = numbers(a), numbers(b)
    if na and nb:
        return all(any(_same_number(x, y) for y in nb) for x in na) or all(
            any(_same_number(x, y) for y in na) for x in nb
        )
    if na or nb or sa or sb:
        return True
    ma, mb = _names(a), _names(b)
    if not ma or not mb:
        return True
    return ma <= mb or mb <= ma or _content(a) <= _content(b) or _content(b) <= _content(a)
