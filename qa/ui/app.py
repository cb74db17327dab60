"""The chat UI (Gradio): ask, read the answer with its sources, manage the library.

`build_app(settings)` builds the app; `qa.ui.launch.launch(settings, ...)` starts serving it,
and is what `qa serve` calls. The UI only formats: answers come from
`qa.answering.pipeline.stream`, the same function the Python API and the CLI use (`qa.ui.chat`
keeps each session's questions in order), and uploads go through `qa.ingestion.job.ingest`
(`qa.ui.library`).

Example:
    >>> from qa.ui.launch import launch
    >>> app = launch(Settings(store_dir=Path("/tmp/qa-index")), port=7860)  # doctest: +SKIP
    >>> app.local_url, app.block_thread()  # doctest: +SKIP
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr

from qa.config import ANSWERERS, Settings
from qa.ui import chat as ui_chat
from qa.ui import forms
from qa.ui import html as fmt
from qa.ui.library import MAX_UPLOAD_BYTES, UPLOAD_SUFFIXES, library, upload

log = logging.getLogger(__name__)

CONCURRENCY = 4
"""Events run at once: retrieval is CPU-bound on a small machine, more would only queue."""
EXAMPLES = (
    "Which UN resolutions demand withdrawal?",
    "Which group mediates the conflict?",
    "What did NATO say about the elections in Nagorno-Karabakh?",
    "How many people were displaced by the war?",
)
ARTICLE_HEADERS = ["Title", "Date", "Publisher", "Chunks", "File"]


def answer_modes(settings: Settings) -> list[str]:
    """The answering backends a user may pick: concrete names only, never a typed-in path."""
    modes = list(ANSWERERS)
    if settings.answerer not in modes:
        modes.append(settings.answerer)
    return modes


def build_app(settings: Settings, *, upload_dir: Path | None = None) -> gr.Blocks:
    """The Gradio app over the index in `settings`.

    Args:
        settings: index, backends and defaults (k, answering mode) for every session.
        upload_dir: where uploaded files are kept; default `settings.store_dir / "uploads"`.
    """
    uploads = upload_dir or settings.store_dir / "uploads"
    modes = answer_modes(settings)

    with gr.Blocks(title="qa: ask your articles") as demo:
        # Copied for each browser session. Not a callable: Gradio would also call it on page
        # load and could replace a Chat that already holds the first question.
        chat = gr.State(ui_chat.Chat())
        gr.Markdown("## qa: questions answered from your articles, every answer with its sources")
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"), gr.Row(equal_height=False):
                with gr.Column(scale=3):
                    chatbot = gr.Chatbot(
                        label="Chat",
                        elem_id="qa-chat",
                        height=560,
                        examples=[{"text": q} for q in EXAMPLES],
                        latex_delimiters=[],
                        feedback_options=None,
                        buttons=["copy_all"],
                        group_consecutive_messages=False,
                    )
                    with gr.Row():
                        question = gr.Textbox(
                            placeholder="Ask about the articles, e.g. " + EXAMPLES[0],
                            show_label=False,
                            scale=5,
                            elem_id="qa-question",
                        )
                        ask_button = gr.Button("Ask", variant="primary", scale=1, elem_id="qa-ask")
                    new_chat = gr.Button("New conversation", size="sm", elem_id="qa-new")
                with gr.Column(scale=2, elem_id="qa-sources-column"):
                    gr.Markdown("### Sources")
                    sources = gr.HTML(
                        fmt.format_sources_panel([]),
                        elem_id="qa-sources",
                        js_on_load=None,
                        max_height=640,
                    )
            with gr.Tab("Library", id="library"):
                library_note = gr.HTML(elem_id="qa-library-note")
                articles = gr.Dataframe(
                    headers=ARTICLE_HEADERS,
                    datatype="str",
                    interactive=False,
                    wrap=True,
                    elem_id="qa-articles",
                )
                files = gr.File(
                    label=f"Add articles ({', '.join(UPLOAD_SUFFIXES)}; up to "
                    f"{MAX_UPLOAD_BYTES // 1_000_000} MB each)",
                    file_count="multiple",
                    type="filepath",
                    elem_id="qa-upload",
                )
                report = gr.HTML(elem_id="qa-report")
                refresh = gr.Button("Refresh", size="sm")
            with gr.Tab("Settings", id="settings"):
                k = gr.Slider(
                    1,
                    ui_chat.MAX_K,
                    value=settings.k,
                    step=1,
                    label="Passages to retrieve",
                    elem_id="qa-k",
                )
                mode = gr.Dropdown(
                    modes, value=settings.answerer, label="Answering mode", elem_id="qa-mode"
                )
                publishers = gr.Dropdown(
                    [],
                    value=[],
                    multiselect=True,
                    label="Publishers",
                    info="None selected: all publishers.",
                    elem_id="qa-publishers",
                )
                with gr.Row():
                    date_from = gr.Textbox(
                        label="Date from", placeholder="YYYY-MM-DD", elem_id="qa-date-from"
                    )
                    date_to = gr.Textbox(
                        label="Date to", placeholder="YYYY-MM-DD", elem_id="qa-date-to"
                    )
                date_note = gr.HTML(elem_id="qa-date-note")

        def on_send(
            text: str | None,
            chat_: ui_chat.Chat,
            k_: float,
            mode_: str,
            pubs: list[str] | None,
            d_from: str | None,
            d_to: str | None,
        ) -> tuple[str, Any]:
            # Not queued: the box clears and the question shows as waiting at once, even
            # while this session's previous answer streams.
            sent = ui_chat.Question(
                text or "", k_, mode_, tuple(pubs or ()), d_from or "", d_to or ""
            )
            ui_chat.take(sent, chat_)
            return "", ui_chat.messages(chat_)

        def on_answer(chat_: ui_chat.Chat) -> Iterator[Any]:
            shown = False
            for _ in ui_chat.answer_waiting(chat_, settings, modes):
                shown = True
                yield ui_chat.messages(chat_), ui_chat.sources_panel(chat_)
            if not shown:  # this session's running answer takes the new question next
                yield gr.skip(), gr.skip()

        def on_ask(
            text: str | None,
            chat_: ui_chat.Chat,
            k_: float,
            mode_: str,
            pubs: list[str] | None,
            d_from: str | None,
            d_to: str | None,
        ) -> Iterator[Any]:
            yield *on_send(text, chat_, k_, mode_, pubs, d_from, d_to), ui_chat.sources_panel(chat_)
            for _ in ui_chat.answer_waiting(chat_, settings, modes):
                yield "", ui_chat.messages(chat_), ui_chat.sources_panel(chat_)

        def on_library() -> tuple[list[list[Any]], Any, str]:
            rows, pubs, note = library(settings)
            return rows, gr.Dropdown(choices=pubs), note

        def on_upload(
            paths: list[str] | None,
            progress: gr.Progress = gr.Progress(),  # noqa: B008 - how Gradio injects it
        ) -> Any:
            result = upload(paths, settings, uploads, progress)
            rows, pubs, note = library(settings)
            return result, rows, gr.Dropdown(choices=pubs), note, None

        def on_dates(d_from: str, d_to: str) -> str:
            try:
                forms.parse_date_range(d_from, d_to)
            except ValueError as e:
                return forms.format_message(str(e), "error")
            return ""

        def on_example(
            evt: gr.SelectData,
            chat_: ui_chat.Chat,
            k_: float,
            mode_: str,
            pubs: list[str] | None,
            d_from: str | None,
            d_to: str | None,
        ) -> Any:
            text = str(evt.value.get("text", "")) if isinstance(evt.value, dict) else ""
            return on_send(text, chat_, k_, mode_, pubs, d_from, d_to)[1]

        def on_clear(chat_: ui_chat.Chat) -> tuple[list[Any], str, str]:
            ui_chat.clear(chat_)
            return [], fmt.format_sources_panel([]), ""

        options = [k, mode, publishers, date_from, date_to]
        # "multiple": a question sent while this session's answer streams is still taken,
        # and its answering call still made (it returns at once if the running one takes it).
        private: dict[str, Any] = {"api_visibility": "private", "trigger_mode": "multiple"}
        for trigger in (question.submit, ask_button.click):
            trigger(
                on_send, [question, chat, *options], [question, chatbot], queue=False, **private
            ).then(on_answer, chat, [chatbot, sources], **private)
        chatbot.example_select(on_example, [chat, *options], chatbot, queue=False, **private).then(
            on_answer, chat, [chatbot, sources], **private
        )
        # The HTTP API's /ask (eval/load_test.py): one call queues a question and streams the
        # session's answers, through the same two steps as the chat.
        api_ask = gr.Button(visible=False)
        api_ask.click(
            on_ask, [question, chat, *options], [question, chatbot, sources], api_name="ask"
        )
        for event in (new_chat.click, chatbot.clear):
            event(on_clear, chat, [chatbot, sources, question], queue=False, **private)
        library_outputs = [articles, publishers, library_note]
        demo.load(on_library, None, library_outputs, api_visibility="private")
        refresh.click(on_library, None, library_outputs, api_visibility="private")
        files.upload(
            on_upload,
            files,
            [report, *library_outputs, files],
            api_name="upload",
            concurrency_limit=1,
            concurrency_id="ingest",
        )
        for box in (date_from, date_to):
            box.blur(on_dates, [date_from, date_to], date_note, api_visibility="private")
            box.submit(on_dates, [date_from, date_to], date_note, api_visibility="private")
    demo.queue(default_concurrency_limit=CONCURRENCY, max_size=CONCURRENCY * 25)
    return demo
