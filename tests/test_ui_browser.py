"""The chat UI in a real Chromium, against a real `qa serve` on a free loopback port.

The server ingests corpus/ into a temporary store and runs in a subprocess, exactly as a user
starts it; Playwright drives Debian's /usr/bin/chromium (no `playwright install`). Each test
opens its own browser context, i.e. its own Gradio session. Screenshots go to each test's
temporary folder; `scripts/screenshot` runs the UN-resolutions test with
`--readme-screenshot docs/screenshot.png` to refresh the README's picture.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import ROOT, free_port, running, wait_until

from qa.config import Settings

pytestmark = [pytest.mark.browser, pytest.mark.server]

playwright_api = pytest.importorskip("playwright.sync_api")
from playwright.sync_api import (  # noqa: E402
    Browser,
    FilePayload,
    Locator,
    Page,
    Route,
    expect,
    sync_playwright,
)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Bounds for a slow machine squeezed onto one core beside a busy job (issue 19); a passing run
# waits only as long as the page takes. The server ingests corpus/ before it listens; an answer
# takes a second or two once the models are loaded, ten seconds for the question that loads them;
# anything else the page does (a tab, a cleared box, a highlighted source) well under a second.
STARTUP_S = 600
ANSWER_MS = 300_000
UI_MS = 60_000
expect.set_options(timeout=UI_MS)
UN_QUESTION = "Which UN resolutions demand withdrawal?"


@dataclass(frozen=True)
class Server:
    url: str
    store: Path
    uploads: Path
    log: Path


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`qa serve --ingest corpus` on a free 127.0.0.1 port, with a store of its own."""
    with serving(ROOT / "corpus", tmp_path_factory.mktemp("ui-store")) as s:
        yield s


@contextmanager
def serving(folder: Path, store: Path) -> Iterator[Server]:
    """`qa serve --ingest FOLDER` on a free 127.0.0.1 port, with `store` of its own."""
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's chromium: apt-get install chromium")
    port = free_port()
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "ANONYMIZED_TELEMETRY": "False",
        "GRADIO_ANALYTICS_ENABLED": "False",
    }
    for name in ("QA_USERNAME", "QA_PASSWORD", "QA_HOST", "QA_PORT", "QA_STORE_DIR"):
        env.pop(name, None)
    command = [sys.executable, "-m", "qa.cli", "serve", "--ingest", str(folder)]
    command += ["--store", str(store), "--port", str(port)]
    url = f"http://127.0.0.1:{port}/"
    log = store / "serve.log"
    with running(
        "qa serve", command, ready_url=url, log=log, timeout_s=STARTUP_S, env=env, cwd=ROOT
    ):
        yield Server(url, store, store / "uploads", log)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser: Browser, server: Server) -> Iterator[Page]:
    """A fresh browser context (a new Gradio session) with the app loaded."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    open_app(page, server.url)
    try:
        yield page
    finally:
        context.close()


def open_app(page: Page, url: str) -> None:
    page.set_default_timeout(UI_MS)
    page.set_default_navigation_timeout(UI_MS)
    page.goto(url, wait_until="domcontentloaded")
    page.locator("#qa-question textarea").wait_for()


def answers(page: Page) -> Locator:
    """Finished answers in the chat (a streaming one carries `qa-streaming`)."""
    return page.locator("#qa-chat [data-testid=bot] .qa-answer:not(.qa-streaming)")


def ask(page: Page, question: str) -> Locator:
    """Type `question`, press Enter, wait for its finished answer and return that element."""
    done = answers(page)
    before = done.count()
    box = page.locator("#qa-question textarea")
    box.fill(question)
    box.press("Enter")
    expect(done).to_have_count(before + 1, timeout=ANSWER_MS)
    return done.nth(before)


def upload(page: Page, files: list[FilePayload]) -> Locator:
    """Upload files in the Library tab and wait for the ingest report."""
    page.get_by_role("tab", name="Library").click()
    report = page.locator("#qa-report .qa-report, #qa-report .qa-message")
    page.locator("#qa-upload input[type=file]").set_input_files(files)
    expect(report).to_have_count(1, timeout=ANSWER_MS)
    return report


def shot(page: Page, folder: Path, name: str) -> Path:
    path = folder / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def text_file(name: str, text: str) -> FilePayload:
    return {"name": name, "mimeType": "text/plain", "buffer": text.encode("utf-8")}


def test_serve_prints_the_url_to_open_and_no_share_hint(server: Server) -> None:
    line = f"qa is serving the chat: open {server.url} (Ctrl+C stops it)"
    # The app answers a moment before launch() returns and the line is printed.
    wait_until(lambda: line in server.log.read_text(), f"the log shows {line!r}", every_s=0.2)
    out = server.log.read_text()
    assert line in out
    assert "share=True" not in out


def test_un_question_cites_the_resolutions_with_the_quote_highlighted(
    page: Page, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    answer = ask(page, UN_QUESTION)
    expect(answer).to_contain_text("822, 853, 874 and 884")
    marker = answer.locator(".qa-text a.qa-cite", has_text="[1]")
    expect(marker).to_have_attribute("href", "#src-1-1")
    expect(answer.locator(".qa-query")).to_have_text(f"Searched for: {UN_QUESTION}")

    card = page.locator("#qa-sources #src-1-1")
    expect(card).to_be_visible()
    expect(card.locator(".qa-meta")).to_contain_text("000_597cfd3371608b94.txt")
    expect(card.locator(".qa-meta")).to_contain_text("2020-04-01")
    expect(card.locator("mark")).to_contain_text("resolutions (822, 853, 874 and 884)")
    path = shot(page, tmp_path, "un_resolutions")
    readme_picture = request.config.getoption("--readme-screenshot")
    if readme_picture:
        Path(readme_picture).write_bytes(path.read_bytes())


def test_follow_up_shows_the_query_searched_and_markers_bring_sources_into_view(
    page: Page, tmp_path: Path
) -> None:
    first = ask(page, "Which group mediates the conflict?")
    expect(first).to_contain_text("Minsk Group")
    second = ask(page, "and who co-chairs it?")
    expect(second).to_contain_text("United States, Russia and France")
    query = second.locator(".qa-query")
    expect(query).to_contain_text("Which group mediates the conflict?")
    expect(query).to_contain_text("co-chairs it?")
    expect(second.locator(".qa-head .qa-verdict")).to_have_count(1)
    shot(page, tmp_path, "follow_up")

    # The first answer's sources are now collapsed under "Earlier"; its [1] opens them.
    earlier = page.locator("#qa-sources #src-1-1")
    expect(earlier).not_to_be_visible()
    first.locator("a.qa-cite").first.click()
    expect(earlier).to_be_visible()
    expect(earlier).to_be_in_viewport()
    assert len(page.context.pages) == 1, "a marker must not open a new tab"
    shot(page, tmp_path, "marker_clicked")


def send(page: Page, question: str) -> None:
    """Type `question`, press Enter, and return once the box is empty again: a person sees
    that before typing the next question."""
    box = page.locator("#qa-question textarea")
    box.fill(question)
    box.press("Enter")
    expect(box).to_have_value("")


def test_a_question_sent_before_the_answer_is_done_waits_and_is_answered_next(
    page: Page,
) -> None:
    first, second = "Which group mediates the conflict?", "and who co-chairs it?"
    users = page.locator("#qa-chat [data-testid=user]")
    # The browser holds back the calls that start answering (Gradio's queue/join) until both
    # questions are in, so the second surely comes while the first is not answered yet,
    # however fast this machine answers.
    held: list[Route] = []

    def hold(route: Route) -> None:
        held.append(route)

    page.route("**/gradio_api/queue/join*", hold)
    try:
        send(page, first)
        send(page, second)
        expect(users).to_have_text([first, second])
        expect(page.locator("#qa-chat .qa-waiting")).to_have_count(2)
        assert answers(page).count() == 0
    finally:
        for route in held:
            route.continue_()
        page.unroute("**/gradio_api/queue/join*")

    expect(answers(page)).to_have_count(2, timeout=2 * ANSWER_MS)
    expect(users).to_have_text([first, second])
    expect(answers(page).nth(0)).to_contain_text("Minsk Group")
    # Answered after the first and as a follow-up to it: the first was in its history.
    expect(answers(page).nth(1)).to_contain_text("United States, Russia and France")
    expect(answers(page).nth(1).locator(".qa-query")).to_contain_text(first)
    expect(page.locator("#qa-chat .qa-waiting")).to_have_count(0)


def test_unanswerable_question_says_so_plainly(page: Page, tmp_path: Path) -> None:
    from qa.answering.extractive import NOT_IN_CORPUS

    answer = ask(page, "What was the voter turnout in those elections?")
    expect(answer).to_have_class("qa-answer qa-abstain")
    expect(answer.locator(".qa-text")).to_have_text(NOT_IN_CORPUS)
    expect(page.locator("#qa-sources .qa-no-sources")).to_be_visible()
    shot(page, tmp_path, "not_in_corpus")


VERDICTS = (
    "well supported",
    "weak: check the source",
    "not in the corpus",
    "not in the corpus: the closest it says is quoted",
)
NEAR_MISS_CANDIDATES = (
    "Who co-chairs the OSCE Vienna Group?",
    "Did NATO accept the results of the elections in Abkhazia?",
    "How many Azerbaijanis were killed in 2020?",
    "In what year was the cease-fire agreement in Abkhazia signed?",
    "How many Armenians were killed in the large-scale hostilities?",
)


def top(locator: Locator) -> float:
    box = locator.bounding_box()
    assert box is not None, f"{locator} is not shown"
    return float(box["y"])


def style(locator: Locator, name: str) -> str:
    return str(locator.evaluate(f"e => getComputedStyle(e).{name}"))


def test_short_answer_first_in_bold_then_the_quote_its_source_and_the_verdict(
    page: Page, tmp_path: Path
) -> None:
    answer = ask(page, "In what year was the cease-fire agreement signed?")
    short, text = answer.locator(".qa-short"), answer.locator(".qa-text")
    expect(short).to_have_text("1994")
    assert int(style(short, "fontWeight")) >= 700
    assert top(short) < top(text)
    expect(text).to_contain_text("since the signing of the volatile cease-fire agreement in 1994.")
    expect(text.locator("a.qa-cite")).to_have_text("[1]")
    expect(answer.locator(".qa-cited")).to_have_text(
        "[1] NATO has rejected the illegal elections held in Azerbaijan's occupied… · "
        "Azernews · 2020-04-01"
    )
    # Words and a number, whatever the decision model makes of this sentence.
    verdict = answer.locator(".qa-head .qa-verdict")
    expect(verdict).to_have_count(1)
    assert verdict.inner_text() in VERDICTS[:2]
    expect(answer.locator(".qa-confidence")).to_have_text(re.compile(r"^confidence [01]\.\d\d$"))
    mark = page.locator("#qa-sources #src-1-1 mark")
    expect(mark).to_contain_text("cease-fire agreement in 1994")
    shot(page, tmp_path, "short_answer")


def test_the_author_is_answered_from_the_header_line_and_well_supported(page: Page) -> None:
    answer = ask(page, "Who wrote the article about NATO rejecting the elections?")
    expect(answer.locator(".qa-short")).to_have_text("Akbar Mammadov")
    expect(answer.locator(".qa-text")).to_have_text("By Akbar Mammadov [1]")
    verdict = answer.locator(".qa-verdict")
    expect(verdict).to_have_text("well supported")
    expect(verdict).to_have_class("qa-verdict qa-well")
    expect(page.locator("#qa-sources #src-1-1 mark")).to_have_text("By Akbar Mammadov")


def test_a_near_miss_is_labelled_not_in_the_corpus_above_the_closest_quote(
    page: Page, corpus_settings: Settings, tmp_path: Path
) -> None:
    from qa import answer as qa_answer

    # The same models over the same corpus/ in this process pick a question the server
    # answers with a near miss, so the test holds when the decision model is retrained.
    tried = (qa_answer(q, settings=corpus_settings) for q in NEAR_MISS_CANDIDATES)
    expected = next((a for a in tried if a.near_miss), None)
    if expected is None:
        pytest.fail(f"none of {NEAR_MISS_CANDIDATES} is a near miss: find one with qa ask --json")
    answer = ask(page, expected.question)
    expect(answer).to_have_class("qa-answer qa-abstain qa-near-miss")
    label, text = answer.locator(".qa-head .qa-verdict"), answer.locator(".qa-text")
    expect(label).to_have_text("not in the corpus: the closest it says is quoted")
    assert top(label) < top(text)
    quote = expected.citations[0].quote
    expect(text).to_have_text(f"The corpus does not say that. The closest it says: “{quote}” [1]")
    assert style(text, "borderLeftStyle") == "dashed"
    expect(answer.locator(".qa-short")).to_have_count(0)
    expect(answer.locator(".qa-confidence")).to_have_count(0)
    expect(page.locator("#qa-sources #src-1-1 mark")).to_have_text(quote)
    shot(page, tmp_path, "near_miss")


def test_example_question_and_separate_sessions(
    browser: Browser, page: Page, server: Server
) -> None:
    page.locator("#qa-chat").get_by_text(UN_QUESTION).click()
    expect(answers(page)).to_have_count(1, timeout=ANSWER_MS)
    expect(answers(page)).to_contain_text("822, 853, 874 and 884")
    other = browser.new_context().new_page()
    try:
        open_app(other, server.url)
        expect(other.locator("#qa-chat [data-testid=bot]")).to_have_count(0)
        expect(other.locator("#qa-sources .qa-sources-empty")).to_be_visible()
    finally:
        other.context.close()
    expect(page.locator("#qa-sources .qa-source")).to_have_count(1)
    page.locator("#qa-new").click()
    expect(page.locator("#qa-chat [data-testid=bot]")).to_have_count(0)
    expect(page.locator("#qa-sources .qa-sources-empty")).to_be_visible()


def test_uploaded_article_is_listed_and_answers_questions(
    page: Page, server: Server, tmp_path: Path
) -> None:
    article = (
        "date 2024-05-06 By Harbour Gazette\n\nBy Jane Doe\n\n"
        "The lighthouse keeper Marta Quintela repainted the Farol da Guia tower in cobalt "
        "blue during the spring of 2023.\n\n"
        "The town council paid 14,000 euros for the work, which took eleven weeks.\n"
    )
    report = upload(page, [text_file("lighthouse.txt", article)])
    expect(report.locator(".qa-summary")).to_contain_text("1 added")
    expect(report.locator(".qa-failed")).to_have_count(0)
    table = page.locator("#qa-articles")
    expect(table).to_contain_text("Harbour Gazette")
    expect(table).to_contain_text("2024-05-06")
    assert (server.uploads / "lighthouse.txt").read_text() == article
    shot(page, tmp_path, "library_upload")

    page.get_by_role("tab", name="Chat").click()
    answer = ask(page, "What colour did Marta Quintela paint the lighthouse tower?")
    expect(answer).to_contain_text("cobalt blue")
    expect(page.locator("#qa-sources .qa-source .qa-file").first).to_have_text("lighthouse.txt")


def test_bad_and_unsupported_files_are_reported_and_change_nothing_else(
    page: Page, server: Server, tmp_path: Path
) -> None:
    good = "date 2024-02-03 By Valley Post\n\nThe Orrin Valley ferry resumed service on Monday.\n"
    files: list[FilePayload] = [
        {"name": "broken.txt", "mimeType": "text/plain", "buffer": bytes(range(256)) * 8},
        {"name": "tool.exe", "mimeType": "application/octet-stream", "buffer": b"MZ\x90\x00"},
        text_file("ferry.txt", good),
    ]
    report = upload(page, files)
    failed = report.locator(".qa-failed li")
    expect(failed).to_have_count(2)
    expect(failed.filter(has_text="tool.exe")).to_contain_text("tool.exe: unsupported type '.exe'")
    expect(failed.filter(has_text="broken.txt")).to_contain_text("broken.txt: ")
    summary = report.locator(".qa-summary")
    expect(summary).to_contain_text("1 added")
    expect(summary).to_contain_text("1 failed")
    expect(summary).to_contain_text("1 refused before ingest (type or size)")
    expect(page.locator("#qa-articles")).to_contain_text("Valley Post")
    assert sorted(
        p.name
        for p in server.uploads.iterdir()
        if p.name in {"broken.txt", "tool.exe", "ferry.txt"}
    ) == ["ferry.txt"]
    shot(page, tmp_path, "bad_upload")


def test_article_markup_is_shown_as_text_and_never_runs(page: Page, tmp_path: Path) -> None:
    article = (
        "date 2024-07-08 By Quay Chronicle\n\n"
        'Pranksters hung a banner reading <img src=x onerror="window.__pwned=2"> at the quay.\n\n'
        "The Zephyr Rowing Club poster said <script>window.__pwned=1</script> in red letters "
        "beside the boathouse.\n"
    )
    report = upload(page, [text_file("markup.txt", article)])
    expect(report.locator(".qa-summary")).to_contain_text("1 added")
    expect(page.locator("#qa-articles")).to_contain_text("Quay Chronicle")

    page.get_by_role("tab", name="Chat").click()
    ask(page, "What did the Zephyr Rowing Club poster say beside the boathouse?")
    sources = page.locator("#qa-sources")
    expect(sources).to_contain_text("<script>window.__pwned=1</script>")
    expect(sources).to_contain_text('<img src=x onerror="window.__pwned=2">')
    assert page.locator("#qa-sources script, #qa-sources img, #qa-chat .qa-answer img").count() == 0
    shot(page, tmp_path, "markup_as_text")
    page.get_by_role("tab", name="Library").click()
    expect(page.locator("#qa-articles")).to_contain_text("Pranksters")
    assert page.evaluate("typeof window.__pwned") == "undefined"


def test_upload_name_with_dot_dot_lands_inside_the_upload_folder(
    page: Page, server: Server
) -> None:
    text = "date 2024-09-10 By Ridge Herald\n\nThe Ridge tramway reopened after repairs.\n"
    report = upload(page, [text_file("../evil.txt", text)])
    expect(report.locator(".qa-summary")).to_contain_text("1 added")
    assert (server.uploads / "evil.txt").read_text() == text
    assert not (server.store / "evil.txt").exists()
    assert not (server.store.parent / "evil.txt").exists()
    assert [p for p in server.store.rglob("evil.txt")] == [server.uploads / "evil.txt"]


def test_date_filters_are_validated_and_applied(page: Page, tmp_path: Path) -> None:
    page.get_by_role("tab", name="Settings").click()
    date_from = page.locator("#qa-date-from input, #qa-date-from textarea")
    date_from.fill("2020-13-01")
    date_from.press("Tab")
    expect(page.locator("#qa-date-note")).to_contain_text(
        "Date from '2020-13-01' is not a date: write it as YYYY-MM-DD"
    )
    page.get_by_role("tab", name="Chat").click()
    refused = ask(page, UN_QUESTION)
    expect(refused).to_have_class("qa-answer qa-error")
    expect(refused).to_contain_text("Date from '2020-13-01' is not a date")

    page.get_by_role("tab", name="Settings").click()
    date_from.fill("")
    page.locator("#qa-date-to input, #qa-date-to textarea").fill("2019-12-31")
    page.get_by_role("tab", name="Chat").click()
    filtered = ask(page, UN_QUESTION)
    expect(filtered).to_have_class("qa-answer qa-abstain")
    shot(page, tmp_path, "date_filter")
