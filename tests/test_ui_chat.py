"""The chat's per-session queue: questions sent while an answer streams wait, then are answered
in the order they were sent; none is dropped. Real answers over a small index (fake:hash)."""

from __future__ import annotations

import pytest

from qa import ui_format as fmt
from qa.config import Settings
from qa.ingest import ingest
from qa.ui_chat import Chat, Question, answer_waiting, clear, messages, take

MODES = ["extractive"]
FERRY = "When did the Orrin Valley ferry resume service?"
BRIDGE = "What colour was the Kelvaro bridge painted?"


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    folder = tmp_path_factory.mktemp("articles")
    (folder / "ferry.txt").write_text(
        "date 2024-02-03 By Valley Post\n\nThe Orrin Valley ferry resumed service on Monday.\n"
    )
    (folder / "bridge.txt").write_text(
        "date 2024-02-04 By Valley Post\n\nThe Kelvaro bridge was painted green in spring.\n"
    )
    settings = Settings(store_dir=tmp_path_factory.mktemp("store"), embedder="fake:hash")
    assert ingest([folder], settings).failed == []
    return settings


def test_a_blank_question_is_not_queued() -> None:
    chat = Chat()
    assert take(Question("  \n "), chat) is False
    assert chat.waiting == []
    assert take(Question(f"  {FERRY} "), chat) is True
    assert chat.waiting == [Question(FERRY)]


def test_a_question_sent_while_one_is_answered_waits_and_is_answered_next(
    settings: Settings,
) -> None:
    chat = Chat()
    take(Question(FERRY), chat)
    first = answer_waiting(chat, settings, MODES)
    next(first)  # the ferry question is being answered
    assert chat.current == (FERRY, "")

    take(Question(BRIDGE), chat)
    assert messages(chat)[-2:] == [
        {"role": "user", "content": fmt.format_question(BRIDGE)},
        {"role": "assistant", "content": fmt.format_waiting()},
    ]
    # The chat sends each question's answering call too; this one finds the first running.
    assert list(answer_waiting(chat, settings, MODES)) == []
    assert [q.text for q in chat.waiting] == [BRIDGE]

    list(first)
    assert [t.question for t in chat.turns] == [FERRY, BRIDGE]
    assert "Monday" in (chat.turns[0].answer_text or "")
    assert "green" in (chat.turns[1].answer_text or "")
    assert (chat.waiting, chat.current, chat.answering) == ([], None, False)
    assert [m["content"] for m in messages(chat) if m["role"] == "user"] == [
        fmt.format_question(FERRY),
        fmt.format_question(BRIDGE),
    ]


def test_each_question_keeps_the_settings_it_was_sent_with(settings: Settings) -> None:
    chat = Chat()
    take(Question(FERRY), chat)
    take(Question(BRIDGE, mode="nonsense"), chat)
    list(answer_waiting(chat, settings, MODES))
    assert chat.turns[0].answer_text is not None
    assert chat.turns[1].message == fmt.format_error(
        "Could not answer: unknown answering mode 'nonsense'; choose one of extractive"
    )


def test_a_new_conversation_drops_the_answer_streaming_and_the_waiting_ones(
    settings: Settings,
) -> None:
    chat = Chat()
    take(Question(FERRY), chat)
    take(Question(BRIDGE), chat)
    running = answer_waiting(chat, settings, MODES)
    next(running)
    clear(chat)
    take(Question(BRIDGE), chat)
    list(running)  # the loop that was running answers what was asked after the clear
    assert [t.question for t in chat.turns] == [BRIDGE]
    assert chat.answering is False


def test_a_closed_session_lets_the_next_question_be_answered(settings: Settings) -> None:
    chat = Chat()
    take(Question(FERRY), chat)
    running = answer_waiting(chat, settings, MODES)
    next(running)
    running.close()  # what Gradio does when the browser goes away mid-answer
    assert chat.answering is False
    take(Question(BRIDGE), chat)
    list(answer_waiting(chat, settings, MODES))
    assert [t.question for t in chat.turns] == [BRIDGE]
