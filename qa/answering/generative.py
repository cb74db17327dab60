"""Generative answers: numbered passages in, a streamed answer out, every sentence checked.

`generate()` builds the prompt, streams the chat model's tokens to the caller as they arrive,
then runs the grounding check (`qa.answering.grounding`) on the whole answer and yields the checked
`Answer` last. Sentences the check rejects are removed (or, with `Settings.grounding ==
"mark"`, kept with " [unsupported]" before the full stop); either way they are listed in
`Answer.removed` with the reason. Citations are renumbered 1..n in order of first use and
quote the span of the cited passage closest to the sentences that cite it.

When the backend fails (not installed, unreachable, too slow, or empty output) or no sentence
survives the check, `GenerationFailed` is raised before the Answer is yielded; `qa.answer`
catches it and answers extractively, with the reason as the Answer's notice.

The prompt (passages as data, worked examples, the answer grammar) is built by
`qa.answering.prompt`.
"""

from __future__ import annotations

import logging
import queue
import re
import threading
import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from qa.answering.claims import UNSUPPORTED_MARK, evidence_span
from qa.answering.extractive import NOT_IN_CORPUS
from qa.answering.grounding import CheckResult, Sentence, check
from qa.answering.prompt import answer_grammar, build_messages, prompt_order
from qa.config import Settings
from qa.types import Answer, Citation, Fallback, Passage

if TYPE_CHECKING:
    from langchain_core.language_models.chat_models import BaseChatModel

    from qa.models.embedders import Embedder

log = logging.getLogger(__name__)

UNSUPPORTED_FALLBACK = "no sentence of the generated answer was supported by the passages"
"""Why a generated answer gave way to the extractive one when the check removed it all."""


class GenerationFailed(RuntimeError):
    """The generative backend gave no usable answer; the message says why, `reason` in a word."""

    def __init__(self, message: str, reason: Fallback = "failed") -> None:
        super().__init__(message)
        self.reason: Fallback = reason

    def __reduce__(self) -> tuple[type[GenerationFailed], tuple[str, Fallback]]:
        return type(self), (str(self), self.reason)  # the reason survives pickling


def generate(
    question: str,
    query: str,
    passages: Sequence[Passage],
    settings: Settings,
    embedder: Embedder,
    lead: Citation | None = None,
) -> Iterator[str | Answer]:
    """Yield the model's text as it arrives, then the checked Answer.

    Args:
        question: the user's question, for the Answer record.
        query: the standalone question (differs from `question` for follow-ups); the model
            is asked this one.
        passages: the retrieved passages, best first; the model sees the first
            `MAX_PASSAGES` of them in `prompt_order`, numbered [1].. as shown.
        settings: `answerer` names the backend (see `qa.models.chat_models`); `llm_timeout_s`
            bounds the whole generation; `grounding` is "remove" or "mark".
        embedder: the embedding model used by the grounding check.
        lead: the extractive answer's citation (the reader's span): its passage is shown as
            the best one, its quote kept whole in the prompt.

    Raises:
        GenerationFailed: the backend failed, timed out or returned nothing usable, or no
            sentence survived the grounding check. Raised before the Answer is yielded.
    """
    from qa.models import chat_models
    from qa.models.registry import get_chat_model

    name = settings.answerer
    if not passages:
        raise GenerationFailed("no passages were retrieved, so there is nothing to cite")
    try:
        model = get_chat_model(name, settings)
        where = chat_models.location(name, settings)
    except (ImportError, RuntimeError) as e:
        raise GenerationFailed(str(e)) from e
    if lead is not None:
        first = [p for p in passages if p.chunk.id == lead.chunk_id]
        passages = first + [p for p in passages if p.chunk.id != lead.chunk_id]
    shown = [passages[i] for i in prompt_order(passages)]
    messages = build_messages(query or question, shown, lead.quote if lead else "")
    options = chat_models.grammar_options(model, answer_grammar(len(shown)))
    started = time.monotonic()
    parts: list[str] = []
    try:
        for piece in _stream(model, messages, settings.llm_timeout_s, options):
            parts.append(piece)
            yield piece
            if len(parts) > settings.llm_max_tokens * 2:
                break  # a server that ignores the token limit
    except TimeoutError as e:
        raise GenerationFailed(
            f"{name} at {where} gave no complete answer within {settings.llm_timeout_s:g}s"
        ) from e
    except Exception as e:  # any backend error: connection, HTTP status, decoding
        detail = " ".join(str(e).split()) or type(e).__name__
        raise GenerationFailed(f"{name} at {where} failed: {type(e).__name__}: {detail}") from e
    text = "".join(parts).strip()
    log.info("%s answered in %.1fs: %r", name, time.monotonic() - started, text)
    if not text:
        raise GenerationFailed(f"{name} at {where} returned no text")
    result = check(text, shown, embedder, mode=settings.grounding)
    yield to_answer(question, query, shown, result, settings, ranked=passages)


def _stream(
    model: BaseChatModel,
    messages: list[tuple[str, str]],
    timeout_s: float,
    options: dict[str, Any],
) -> Iterator[str]:
    """The model's text pieces; TimeoutError once `timeout_s` has passed since the start.

    The model runs in a worker thread because an in-process model cannot be interrupted
    mid-step (a long prompt is one step): the caller gets its timeout on time and the worker
    stops at its next token.
    """
    pieces: queue.Queue[tuple[str, Any]] = queue.Queue()
    stop = threading.Event()

    def work() -> None:
        try:
            for chunk in model.stream(messages, **options):
                if stop.is_set():
                    return
                if chunk.text:
                    pieces.put(("text", chunk.text))
            pieces.put(("done", None))
        except BaseException as e:  # handed to the caller, who raises it
            pieces.put(("error", e))

    worker = threading.Thread(target=work, name="qa-generate", daemon=True)
    deadline = time.monotonic() + timeout_s
    worker.start()
    try:
        while True:
            try:
                kind, value = pieces.get(timeout=max(deadline - time.monotonic(), 0.0))
            except queue.Empty:
                raise TimeoutError(f"no answer within {timeout_s:g}s") from None
            if kind == "done":
                return
            if kind == "error":
                raise value
            yield value
            if time.monotonic() > deadline:
                raise TimeoutError(f"no answer within {timeout_s:g}s")
    finally:
        stop.set()


def to_answer(
    question: str,
    query: str,
    passages: Sequence[Passage],
    result: CheckResult,
    settings: Settings,
    ranked: Sequence[Passage] | None = None,
) -> Answer:
    """The Answer for a checked generation (GenerationFailed if nothing was supported).

    `passages` are in prompt order (what the model's [n] markers number); `ranked` is the
    retrieval order recorded in `Answer.passages` (default: `passages`).
    """
    common = {
        "query": query,
        "answerer": settings.answerer,
        "passages": tuple(passages if ranked is None else ranked),
        "removed": result.removed,
    }
    if result.abstained:
        return Answer(question, NOT_IN_CORPUS, False, **common)  # type: ignore[arg-type]
    if not result.supported_count:
        first = result.removed[0] if result.removed else None
        why = f": {first.sentence!r} {first.reason}" if first else ""
        raise GenerationFailed(
            f"{UNSUPPORTED_FALLBACK} ({len(result.removed)} removed{why})", "unsupported"
        )
    number = {p: n for n, p in enumerate(result.citations_used, start=1)}
    sentences = [_renumber(s, number) for s in result.kept_sentences if not s.abstains]
    citations = tuple(
        _citation(number[p], p, passages[p], result.kept_sentences) for p in result.citations_used
    )
    return Answer(question, " ".join(sentences), True, citations, **common)  # type: ignore[arg-type]


def _renumber(sentence: Sentence, number: dict[int, int]) -> str:
    """The sentence with markers renumbered by first use, invalid ones dropped, marks added."""

    def swap(m: re.Match[str]) -> str:
        new = [number[int(n) - 1] for n in re.split(r"\s*,\s*", m.group(1)) if int(n) - 1 in number]
        return "".join(f"[{n}]" for n in dict.fromkeys(new))

    text = re.sub(r"\[(\d+(?:\s*,\s*\d+)*)\]", swap, sentence.text)
    text = re.sub(r"\s+([.,;:!?])", r"\1", " ".join(text.split()))
    if not sentence.supported:
        # Before the full stop, so the mark stays inside its sentence when split again.
        end = len(text.rstrip(".!?…"))
        text = text[:end] + UNSUPPORTED_MARK + text[end:]
    return text


def _citation(n: int, index: int, passage: Passage, kept: Sequence[Sentence]) -> Citation:
    """Citation `n` quoting the span of `passage` (prompt number `index` + 1) that holds the
    evidence of the sentences citing it: for each, the smallest run of sentences stating all
    its numbers and names, nearest its closest span (`evidence_span`); the whole chunk when
    only unsupported sentences cite it."""
    c = passage.chunk
    windows = []
    for s in kept:
        mine = [sp for sp in s.supports if sp.passage == index]
        if s.supported and mine:
            best = max(mine, key=lambda sp: sp.similarity)
            windows.append(evidence_span(s.text, passage, (best.start, best.end)))
    a, b = (min(w[0] for w in windows), max(w[1] for w in windows)) if windows else (0, len(c.text))
    return Citation.quoting(n, passage, c.start + a, c.start + b)
