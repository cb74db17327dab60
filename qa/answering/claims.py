"""What a generated sentence claims, and whether a passage states it.

The lexical half of the grounding check (`qa.answering.grounding`): a sentence's `[n]` markers, the
fixed abstention sentence and its variants, and the numbers and capitalised words (names,
places, months) a sentence states, looked up in the cited passages after Unicode
normalisation and case folding, with thousands separators and leading zeros dropped.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from qa.ingestion.chunking import split_sentences
from qa.text import CLAIM_FREE_WORDS, MONTHS
from qa.types import Passage

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
            parts.append(f"{MONTHS[int(m) - 1].capitalize()} {int(d)} {y}")
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
            if (
                not part
                or part.isdigit()
                or (part in CLAIM_FREE_WORDS and (initial or len(part) < 3))
            ):
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
