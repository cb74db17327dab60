"""The chat's per-session queue: questions sent while an answer streams wait, then are answered
in the order they were sent; none is dropped. Real answers over corpus/ (the bundled embedder)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from conftest import WAIT_S

from qa.config import Settings
from qa.index.store import open_index
from qa.models.registry import FAKE
from qa.ui import html as fmt
from qa.ui.chat import Chat, Question, answer_waiting, clear, messages, take, warm_up

MODES = ["extractive"]
FIRST = "Which group mediates the conflict?"
FOLLOW_UP = "and who co-chairs it?"
UN = "Which UN resolutions demand withdrawal?"


def test_a_blank_question_is_not_queued() -> None:
    chat = Chat()
    assert take(Question("  \n "), chat) is False
    assert chat.waiting == []
    assert take(Question(f"  {FIRST} "), chat) is True
    assert chat.waiting == [Question(FIRST)]


def test_a_question_sent_while_one_is_answered_waits_and_is_answered_next(
    corpus_settings: Settings,
) -> None:
    chat = Chat()
    take(Question(FIRST), chat)
    first = answer_waiting(chat, corpus_settings, MODES)
    next(first)  # the ferry question is being answered
    assert chat.current == (FIRST, "")

    take(Question(FOLLOW_UP), chat)
    assert messages(chat)[-2:] == [
        {"role": "user", "content": fmt.format_question(FOLLOW_UP)},
        {"role": "assistant", "content": fmt.format_waiting()},
    ]
    # The chat sends each question's answering call too; this one finds the first running.
    assert list(answer_waiting(chat, corpus_settings, MODES)) == []
    assert [q.text for q in chat.waiting] == [FOLLOW_UP]

    list(first)
    assert [t.question for t in chat.turns] == [FIRST, FOLLOW_UP]
    assert "Minsk Group" in (chat.turns[0].answer_text or "")
    # A follow-up, answered with the first question and its answer as history.
    assert "United States, Russia and France" in (chat.turns[1].answer_text or "")
    assert (chat.waiting, chat.current, chat.answering) == ([], None, False)
    assert [m["content"] for m in messages(chat) if m["role"] == "user"] == [
        fmt.format_question(FIRST),
        fmt.format_question(FOLLOW_UP),
    ]


def test_each_question_keeps_the_settings_it_was_sent_with(corpus_settings: Settings) -> None:
    chat = Chat()
    take(Question(FIRST), chat)
    take(Question(FOLLOW_UP, mode="nonsense"), chat)
    list(answer_waiting(chat, corpus_settings, MODES))
    assert chat.turns[0].answer_text is not None
    assert chat.turns[1].message == fmt.format_error(
        "Could not answer: unknown answering mode 'nonsense'; choose one of extractive"
    )


def test_a_new_conversation_drops_the_answer_streaming_and_the_waiting_ones(
    corpus_settings: Settings,
) -> None:
    chat = Chat()
    take(Question(FIRST), chat)
    take(Question(FOLLOW_UP), chat)
    running = answer_waiting(chat, corpus_settings, MODES)
    next(running)
    clear(chat)
    take(Question(UN), chat)
    list(running)  # the loop that was running answers what was asked after the clear
    assert [t.question for t in chat.turns] == [UN]
    assert "822, 853, 874 and 884" in (chat.turns[0].answer_text or "")
    assert chat.answering is False


def test_a_closed_session_lets_the_next_question_be_answered(corpus_settings: Settings) -> None:
    chat = Chat()
    take(Question(FIRST), chat)
    running = answer_waiting(chat, corpus_settings, MODES)
    next(running)
    running.close()  # what Gradio does when the browser goes away mid-answer
    assert chat.answering is False
    take(Question(UN), chat)
    list(answer_waiting(chat, corpus_settings, MODES))
    assert [t.question for t in chat.turns] == [UN]
    assert "822, 853, 874 and 884" in (chat.turns[0].answer_text or "")


def test_warm_up_answers_an_unasked_question_over_the_index(
    corpus_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    thread = warm_up(corpus_settings)
    assert thread is not None and thread.name == "qa-warm-up"
    thread.join(timeout=WAIT_S)  # it loads the models and answers: seconds when quiet
    assert not thread.is_alive()
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_warm_up_of_an_index_that_cannot_be_opened_leaves_it_to_the_first_question(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    open_index(Settings(store_dir=tmp_path, embedder=FAKE))  # the folder now holds FAKE vectors
    assert warm_up(Settings(store_dir=tmp_path)) is None
    assert [r.getMessage() for r in caplog.records] == ["opening the index before serving failed"]
