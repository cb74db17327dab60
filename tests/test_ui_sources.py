"""The chat shows a disagreement between articles readably: each side one above the other,
newest first, with its outlet, date and [n] link; and an agreeing answer says who said it and
when. A real `qa serve` over tests/news/ (invented articles, see tests/test_sources.py) and
Debian's Chromium, as in tests/test_ui_browser.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ROOT
from test_ui_browser import Server, ask, browser, open_app, serving, shot, top  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.server]

from playwright.sync_api import Browser, Page, expect  # noqa: E402


@pytest.fixture(scope="module")
def news_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serving(ROOT / "tests" / "news", tmp_path_factory.mktemp("ui-news")) as s:
        yield s


@pytest.fixture
def page(browser: Browser, news_server: Server) -> Iterator[Page]:  # noqa: F811
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    open_app(page, news_server.url)
    try:
        yield page
    finally:
        context.close()


def test_a_disagreement_shows_each_side_newest_first(
    page: Page, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    answer = ask(page, "How many people were injured when the Kelvaro footbridge collapsed?")
    expect(answer.locator(".qa-verdict")).to_have_text("the sources differ")
    sides = answer.locator(".qa-side")
    expect(sides).to_have_count(2)
    expect(sides.nth(0).locator(".qa-side-short")).to_have_text("57")
    expect(sides.nth(0).locator(".qa-side-source")).to_have_text("Coastal Wire · 2023-05-04")
    expect(sides.nth(1).locator(".qa-side-short")).to_have_text("41")
    expect(sides.nth(1).locator(".qa-side-source")).to_have_text("Harbour Herald · 2023-05-02")
    assert top(sides.nth(0)) < top(sides.nth(1))
    expect(sides.nth(0).locator("a")).to_have_text("[1]")
    expect(sides.nth(1).locator("a")).to_have_text("[2]")
    # Each side's [n] brings its own source, quoting its sentence, into view.
    sides.nth(1).locator("a").click()
    card = page.locator(".qa-source").filter(has_text="41 people were injured")
    expect(card).to_be_visible()
    path = shot(page, tmp_path, "sources_differ")
    readme_picture = request.config.getoption("--sources-screenshot")
    if readme_picture:
        Path(readme_picture).write_bytes(path.read_bytes())


def test_an_answer_says_who_said_it_and_when(page: Page) -> None:
    answer = ask(page, "How many spectators watched the Riverside marathon?")
    expect(answer.locator(".qa-sides")).to_have_count(0)
    expect(answer.locator(".qa-text")).to_contain_text("According to Riverside")
    expect(answer.locator(".qa-text")).to_contain_text("April 2024")
