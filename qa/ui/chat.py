"""The chat's conversation per browser session: questions wait their turn, none is dropped.

Sending a question only appends it to its session's `Chat.waiting` (the box clears at once and
the question shows as waiting); one answering loop per session takes the waiting questions in
the order they were sent and streams each answer. A question sent while an answer streams is
therefore answered next, with the settings it was sent with. Answers come from
`qa.answering.pipeline.stream`, the function the Python API and the CLI use; this module only
keeps order and builds what the chatbot shows. It knows nothing of Gradio, so it is tested
without it.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from qa.answering.pipeline import answer, stream
from qa.config import Settings
from qa.index.store import open_index
from qa.types import Answer, Filters
from qa.ui import forms
from qa.ui import html as fmt

log = logging.getLogger(__name__)

MAX_K = 20
LOCK = threading.Lock()
"""Guards every `Chat`: held to move a question or a turn, never while answering."""


@dataclass(frozen=True)
class Turn:
    """One question and what the UI showed for it."""

    question: str
    message: str
    """The assistant message's HTML."""
    answer_text: str | None = None
    """The answer's plain text, for follow-ups; None when answering failed."""
    sources: str | None = None
    """The source cards' HTML; None when answering failed."""


@dataclass(frozen=True)
class Question:
    """A question as it was sent, with the Settings tab's values at that moment."""

    text: str
    k: float = 5
    mode: str = "extractive"
    publishers: tuple[str, ...] = ()
    date_from: str = ""
    date_to: str = ""


@dataclass
class Chat:
    """One browser session's conversation (the value of its `gr.State`)."""

    turns: list[Turn] = field(default_factory=list)
    waiting: list[Question] = field(default_factory=list)
    current: tuple[str, str] | None = None
    """The question being answered and the text streamed so far."""
    answering: bool = False
    """Whether a loop is answering this session's questions; at most one is."""
    generation: int = 0
    """Counts `clear()`s: an answer begun before one is dropped."""


def messages(chat: Chat) -> list[dict[str, str]]:
    """The chatbot's value: answered turns, the answer streaming in, the questions waiting."""
    with LOCK:
        turns, current, waiting = list(chat.turns), chat.current, list(chat.waiting)
    out: list[dict[str, str]] = []

    def add(question: str, message: str) -> None:
        out.append({"role": "user", "content": fmt.format_question(question)})
        out.append({"role": "assistant", "content": message})

    for t in turns:
        add(t.question, t.message)
    if current is not None:
        add(current[0], fmt.format_partial(current[1]))
    for q in waiting:
        add(q.text, fmt.format_waiting())
    return out


def sources_panel(chat: Chat) -> str:
    """The Sources column: the latest answer's cards, earlier ones collapsed."""
    with LOCK:
        turns = list(chat.turns)
    return fmt.format_sources_panel([(t.question, t.sources) for t in turns if t.sources])


def take(question: Question, chat: Chat) -> bool:
    """Queue `question` in `chat`; False (and nothing queued) when its text is blank."""
    text = (question.text or "").strip()
    if not text:
        return False
    with LOCK:
        chat.waiting.append(dataclasses.replace(question, text=text))
    return True


def clear(chat: Chat) -> None:
    """Start a new conversation: no turns, nothing waiting, the answer streaming dropped."""
    with LOCK:
        chat.turns, chat.waiting, chat.current = [], [], None
        chat.generation += 1


def answer_waiting(chat: Chat, settings: Settings, modes: Sequence[str]) -> Iterator[None]:
    """Answer `chat`'s waiting questions in order; yields after each change to show.

    Returns at once when another call is already answering this chat: that one takes the
    questions queued meanwhile, so the order is the order they were sent in.
    """
    with LOCK:
        if chat.answering:
            return
        chat.answering = owner = True
    try:
        while True:
            with LOCK:
                if not chat.waiting:
                    chat.answering = owner = False
                    return
                question = chat.waiting.pop(0)
                chat.current = (question.text, "")
                generation = chat.generation
                number = len(chat.turns) + 1
                history = [
                    (t.question, t.answer_text) for t in chat.turns if t.answer_text is not None
                ]
            yield
            for piece in answer_one(question, history, number, settings, modes):
                with LOCK:
                    if chat.generation != generation:
                        break  # the conversation was cleared while this answer streamed
                    if isinstance(piece, Turn):
                        chat.turns.append(piece)
                        chat.current = None
                    else:
                        chat.current = (question.text, piece)
                yield
    finally:
        if owner:  # an error or a closed session: let the next question start a loop
            with LOCK:
                chat.answering = False


def answer_one(
    question: Question,
    history: list[tuple[str, str]],
    number: int,
    settings: Settings,
    modes: Sequence[str],
) -> Iterator[str | Turn]:
    """Answer one question: the text streamed so far as it grows, then its `Turn`."""
    try:
        start, end = forms.parse_date_range(question.date_from, question.date_to)
        if question.mode not in modes:
            raise ValueError(
                f"unknown answering mode {question.mode!r}; choose one of {', '.join(modes)}"
            )
        k = max(1, min(MAX_K, int(question.k)))
        run = settings.replace(k=k, answerer=question.mode)
        filters = Filters(publishers=question.publishers, date_from=start, date_to=end)
        final: Answer | None = None
        text = ""
        for piece in stream(question.text, history, settings=run, filters=filters):
            if isinstance(piece, Answer):
                final = piece
            else:
                text += piece
                yield text
        if final is None:
            raise RuntimeError("the answerer returned no answer")
        yield Turn(
            question.text,
            fmt.format_answer(final, number),
            final.text,
            fmt.format_sources(final, number),
        )
    except Exception as e:  # the UI shows any failure as a message, not a trace
        if isinstance(e, ValueError):
            log.info("question %r refused: %s", question.text, e)
        else:
            log.exception("answering %r failed", question.text)
        yield Turn(question.text, fmt.format_error(f"Could not answer: {e}"))


WARM_UP_QUESTION = "What do the articles say?"


def warm_up(settings: Settings) -> threading.Thread | None:
    """Open the index now and load the models in the background, before the first question.

    The embedder and the reader load on first use (9.5 s on 2 busy
    cores); a thread answers a question nobody asked meanwhile, through
    `qa.answering.pipeline.answer`, so it loads exactly what answering needs while the user
    opens the page and types.
    Chroma on disk is opened first, here: two threads opening it at once (this one and a
    first question, or two first questions) break chromadb's shared client for the process.

    Returns:
        The loading thread, or None when the index cannot be opened (the first question
        then says why, in the chat).
    """
    try:
        open_index(settings).collection  # noqa: B018 - connects
    except Exception:
        log.warning("opening the index before serving failed", exc_info=True)
        return None

    def load() -> None:
        try:
            answer(WARM_UP_QUESTION, settings=settings.replace(answerer="extractive"))
        except Exception:  # the first real question reports whatever is wrong, in the chat
            log.warning("loading the models before the first question failed", exc_info=True)

    thread = threading.Thread(target=load, name="qa-warm-up", daemon=True)
    thread.start()
    return thread
